"""The declarations are data typed by hand: check each optional form against the density it must agree with.

Exponential-family forms against the log-density (symbolically), generating functions and Mellin transforms
against mpmath quadrature or summation of the density, and every density's normalization.
"""
import mpmath
import pytest
import sympy as sp

from symkl import families

HEAVY = ("pareto", "halfcauchy", "levy", "inversegamma")
HEAVY_BOTH_WAYS = ("cauchy",)
DOUBLE_EXPONENTIAL = ("gumbel", "moyal")
FAMILIES = [f for f in families() if f.dim is None]   # vector families: tests/test_multivariate.py
POINT = {"mu": sp.Rational(3, 10), "sigma": sp.Rational(6, 5), "rate": sp.Rational(7, 5), "shape": sp.Rational(5, 2),
         "a": sp.Rational(3, 2), "b": sp.Rational(5, 2), "low": sp.Rational(-1, 2), "high": sp.Rational(2),
         "loc": sp.Rational(-1, 3), "scale": sp.Rational(4, 5), "p": sp.Rational(3, 10), "n": sp.Integer(7),
         "df": sp.Rational(7, 2), "kappa": sp.Rational(3, 2), "lam": sp.Rational(3, 10), "r": sp.Rational(5, 2)}


def values(fam):
    if fam.name == "categorical":
        return (sp.Rational(1, 5), sp.Rational(3, 10), sp.Rational(1, 2))
    return tuple(POINT[p.name] for p in fam.params)


def expectation(fam, f, kinks=()):
    """E[f(X)] by mpmath at 30 digits, from the declared log-density only, split also at f's ``kinks``."""
    x = sp.Symbol("x", real=True)
    vals = values(fam)
    density = sp.lambdify(x, sp.exp(fam.log_density(x, *vals)), "mpmath")
    support = fam.support(*vals)
    with mpmath.workdps(30):
        if fam.discrete:
            lo = int(support.inf)
            hi = int(support.sup) if support.sup.is_finite else lo + 400
            return mpmath.fsum(density(k) * f(k) for k in range(lo, hi + 1))
        lo, hi = (mpmath.mpf(str(sp.N(v, 40))) if v.is_finite else (mpmath.inf if v > 0 else -mpmath.inf)
                  for v in (support.inf, support.sup))
        if fam.name in DOUBLE_EXPONENTIAL:  # exp(-exp(-z)) tails: mpmath stalls on exp of a huge exponent far out
            lo = mpmath.mpf(str(sp.N(vals[0] - 40 * vals[1], 40)))   # the mass below is under exp(-exp(40))
        loc = float(vals[0]) if fam.name in ("normal", "laplace", "gumbel", "cauchy", "logistic", "moyal") else None
        points = [lo, loc, hi] if loc is not None else [lo, hi]
        decades = [mpmath.mpf(10) ** k for k in range(-3, 40, 3)]
        if fam.name in HEAVY:  # polynomial tails: split over the decades where the mass lies
            points = [lo] + [lo + d for d in decades] + [hi]
        if fam.name in HEAVY_BOTH_WAYS:
            points = [lo] + [loc - d for d in reversed(decades)] + [loc] + [loc + d for d in decades] + [hi]
        points = sorted(set(points) | {mpmath.mpf(str(sp.N(k, 40))) for k in kinks})
        return mpmath.quad(lambda t: density(t) * f(t), points)


@pytest.mark.parametrize("fam", FAMILIES, ids=lambda f: f.label)
def test_density_is_normalized(fam):
    assert abs(expectation(fam, lambda t: 1) - 1) < (1e-18 if fam.name in HEAVY else 1e-25)


@pytest.mark.parametrize("fam", [f for f in FAMILIES if f.exp_family], ids=lambda f: f.label)
def test_exponential_family_form_equals_log_density(fam):
    ef, syms = fam.exp_family, fam.symbols()
    x = fam.variable()
    eta = ef.natural(*syms)
    form = sum(e * t for e, t in zip(eta, ef.statistics(x, *syms))) - ef.log_partition(eta, *syms) + ef.log_base(x, *syms)
    diff = (form - fam.log_density(x, *syms)).subs(dict(zip(syms, values(fam))))
    for point in (sp.Integer(1), sp.Integer(2)) if fam.discrete else (sp.Rational(1, 3), sp.Rational(2, 3)):
        assert abs(sp.N(diff.subs(x, point), 30)) < 1e-25


def inside(fam, domain, t) -> bool:
    """Whether t lies in a transform's declared domain at the test point (outside it, E diverges)."""
    return domain is None or bool(domain(*values(fam)).contains(t))


@pytest.mark.parametrize("fam", [f for f in FAMILIES if f.mgf], ids=lambda f: f.label)
@pytest.mark.parametrize("t", [sp.Rational(-1, 4), sp.Rational(1, 5)])
def test_mgf_matches_the_density(fam, t):
    if not inside(fam, fam.mgf_domain, t):
        pytest.skip(f"t = {t} is outside the MGF's domain")
    declared = sp.N(fam.mgf(t, *values(fam)), 30)
    assert abs(expectation(fam, lambda s: mpmath.exp(mpmath.mpf(t.p) / t.q * s)) - declared) < 1e-22


@pytest.mark.parametrize("fam", [f for f in FAMILIES if f.mellin], ids=lambda f: f.label)
@pytest.mark.parametrize("t", [sp.Rational(1, 2), sp.Integer(2)])
def test_mellin_transform_matches_the_density(fam, t):
    if not inside(fam, fam.mellin_domain, t):
        pytest.skip(f"t = {t} is outside the Mellin transform's domain")
    declared = sp.N(fam.mellin(t, *values(fam)), 30)
    assert abs(expectation(fam, lambda s: mpmath.power(s, mpmath.mpf(t.p) / t.q)) - declared) < \
        (1e-18 if fam.name in HEAVY else 1e-22)


@pytest.mark.parametrize("fam", [f for f in FAMILIES if f.affine], ids=lambda f: f.label)
def test_affine_form_matches_the_density(fam):
    """X = loc + scale*Z: the density of X equals the standard density of (x - loc)/scale, divided by scale."""
    x, syms = fam.variable(), fam.symbols()
    loc, scale, standard = fam.affine(*syms)
    z = (x - loc) / scale
    mapped = fam.log_density(z, *standard) - sp.log(scale)
    diff = (mapped - fam.log_density(x, *syms)).subs(dict(zip(syms, values(fam)))).subs(x, sp.Rational(1, 3))
    assert abs(sp.N(diff, 30)) < 1e-25


# a point just inside each declared domain's finite ends: the transform still matches there
EDGE = sp.Rational(1, 4)


@pytest.mark.parametrize("fam, kind", [(f, k) for f in FAMILIES for k in ("mgf", "mellin")
                                       if getattr(f, f"{k}_domain")], ids=lambda v: getattr(v, "label", v))
def test_transform_holds_up_to_its_declared_domain(fam, kind):
    """Near each finite end of the declared domain (t = end -+ 1/4) the declared transform equals the density's
    integral: a domain declared too narrow or a transform wrong near its end fails here."""
    domain = getattr(fam, f"{kind}_domain")(*values(fam))
    ends = [(domain.inf, 1), (domain.sup, -1)]
    for end, side in [(e, s) for e, s in ends if e.is_finite]:
        t = end + side * EDGE
        declared = sp.N(getattr(fam, kind)(t, *values(fam)), 30)
        f = (lambda s, t=t: mpmath.exp(mpmath.mpf(sp.Float(t, 40)) * s)) if kind == "mgf" else \
            (lambda s, t=t: mpmath.power(s, mpmath.mpf(sp.Float(t, 40))))
        integral = log_scale_expectation if fam.support(*values(fam)).inf.is_finite else expectation
        assert abs(integral(fam, f) - declared) < 1e-18 * max(1, abs(declared)), (fam.label, kind, t)


def log_scale_expectation(fam, f):
    """E[f(X)] for X above a finite lowest point l as an integral over u = log(x - l): power-law ends become
    exponential ones. u stays within +-400: the tails beyond are below 1e-40 even at t = end -+ 1/4, and
    tanh-sinh near u = oo would evaluate exp(exp(u)) with astronomically large exponents."""
    x = sp.Symbol("x", real=True)
    density = sp.lambdify(x, sp.exp(fam.log_density(x, *values(fam))), "mpmath")
    with mpmath.workdps(30):
        support = fam.support(*values(fam))
        low = mpmath.mpf(sp.Float(support.inf, 40))
        top = mpmath.log(mpmath.mpf(sp.Float(support.sup - support.inf, 40))) if support.sup.is_finite else 400
        cuts = [mpmath.mpf(k) for k in (-400, -200, -100, -50, -25, -12, -6, -3, 0, 3, 6, 12, 25, 50, 100, 200)
                if k < top] + [top]
        return mpmath.quad(lambda u: density(low + mpmath.exp(u)) * f(low + mpmath.exp(u)) * mpmath.exp(u), cuts)


def test_known_expectations_match_the_density():
    """The supplied expectations (halfcauchy's E[log(X^2 + d)], inversegaussian's E[log X]) against quadrature."""
    x = sp.Symbol("x", positive=True)
    cases = [("halfcauchy", sp.log(x**2 + sp.Rational(9, 4)), lambda s: mpmath.log(s**2 + mpmath.mpf(9) / 4)),
             ("halfcauchy", sp.log(x**2), lambda s: 2 * mpmath.log(s)),
             ("inversegaussian", sp.log(x), mpmath.log)]
    for name, h, f in cases:
        fam = families_by_name()[name]
        declared = sp.N(fam.known_expectation(h, x, *values(fam)), 30)
        assert abs(expectation(fam, f) - declared) < 1e-20, (name, h)


def families_by_name():
    return {f.name: f for f in FAMILIES}


@pytest.mark.parametrize("fam", [f for f in FAMILIES if f.transformation], ids=lambda f: f.label)
def test_transformation_matches_the_density(fam):
    """X = g(Y): E[1/(1 + X^2)] by quadrature under X's density and under Y's. Bounded, so it exists for every
    family, and not oscillating: cos(X) under a levy's tail, or cos(exp(Y)) far out, defeats the quadrature."""
    base, base_values, g = fam.transformation(*values(fam))
    y = sp.Symbol("y", real=True)
    gy = sp.lambdify(y, g(y), "mpmath")
    with mpmath.workdps(30):
        lo, hi = (mpmath.mpf(str(sp.N(v, 40))) if v.is_finite else (mpmath.inf if v > 0 else -mpmath.inf)
                  for v in (base.support(*base_values).inf, base.support(*base_values).sup))
        density = sp.lambdify(y, sp.exp(base.log_density(y, *base_values)), "mpmath")
        under_base = mpmath.quad(lambda t: density(t) / (1 + gy(t)**2), [lo, hi])
    assert abs(expectation(fam, lambda t: 1 / (1 + t**2)) - under_base) < 1e-20


@pytest.mark.parametrize("fam", [f for f in FAMILIES if f.mirror], ids=lambda f: f.label)
def test_mirror_matches_the_density(fam):
    """X = c +- g(Y) with a fair sign: E[f(X)] by quadrature under X's density and as the mean of f(c + g(Y)) and
    f(c - g(Y)) under Y's, for an f that is not symmetric about c (a wrong sign rule or g would show)."""
    base, base_values, centre, g = fam.mirror(*values(fam))
    y = sp.Symbol("y", real=True)
    f = lambda t: (1 + t) / (1 + (t - 2)**2)  # noqa: E731
    plus, minus = (sp.lambdify(y, centre + sign * g(y), "mpmath") for sign in (1, -1))
    with mpmath.workdps(30):
        support = base.support(*base_values)
        lo, hi = (mpmath.mpf(str(sp.N(v, 40))) for v in (support.inf, support.sup))
        density = sp.lambdify(y, sp.exp(base.log_density(y, *base_values)), "mpmath")
        under_base = mpmath.quad(lambda t: density(t) * (f(plus(t)) + f(minus(t))) / 2, [lo, (lo + hi) / 2, hi])
    assert abs(expectation(fam, f) - under_base) < 1e-16  # a heavy tail: the quadratures agree to 18 digits


@pytest.mark.parametrize("c, d", [(sp.Rational(1, 2), sp.Rational(3, 2)), (sp.Integer(-4), sp.Rational(1, 10))])
def test_cauchy_supplied_expectation_matches_the_density(c, d):
    """The one supplied expectation, E[log((X - c)**2 + d**2)], against quadrature of the density."""
    cauchy = next(f for f in FAMILIES if f.name == "cauchy")
    x = sp.Dummy("x", real=True)
    supplied = cauchy.known_expectation(sp.log(sp.expand((x - c)**2 + d**2)), x, *values(cauchy))
    with mpmath.workdps(30):   # log((t - c)^2 + d^2) has a narrow dip at t = c when d is small
        reference = expectation(cauchy, lambda t: mpmath.log((t - mpmath.mpf(c.p) / c.q)**2
                                                             + (mpmath.mpf(d.p) / d.q)**2), kinks=(c - d, c, c + d))
    assert abs(sp.N(supplied, 30) - reference) < 1e-14   # the slow x**-2 log(x) tails: 16 digits here
