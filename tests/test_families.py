"""The declarations are data typed by hand: check each optional form against the density it must agree with.

Exponential-family forms against the log-density (symbolically), generating functions and Mellin transforms
against mpmath quadrature or summation of the density, and every density's normalization.
"""
import mpmath
import pytest
import sympy as sp

from symkl import families

FAMILIES = [f for f in families() if f.dim is None]   # vector families: tests/test_multivariate.py
POINT = {"mu": sp.Rational(3, 10), "sigma": sp.Rational(6, 5), "rate": sp.Rational(7, 5), "shape": sp.Rational(5, 2),
         "a": sp.Rational(3, 2), "b": sp.Rational(5, 2), "low": sp.Rational(-1, 2), "high": sp.Rational(2),
         "loc": sp.Rational(-1, 3), "scale": sp.Rational(4, 5), "p": sp.Rational(3, 10), "n": sp.Integer(7),
         "df": sp.Rational(7, 2), "kappa": sp.Rational(3, 2), "lam": sp.Rational(3, 10), "r": sp.Rational(5, 2)}


def values(fam):
    if fam.name == "categorical":
        return (sp.Rational(1, 5), sp.Rational(3, 10), sp.Rational(1, 2))
    return tuple(POINT[p.name] for p in fam.params)


def expectation(fam, f):
    """E[f(X)] by mpmath at 30 digits, from the declared log-density only."""
    x = sp.Symbol("x", real=True)
    vals = values(fam)
    density = sp.lambdify(x, sp.exp(fam.log_density(x, *vals)), "mpmath")
    support = fam.support(*vals)
    with mpmath.workdps(30):
        if fam.discrete:
            lo = int(support.inf)
            hi = int(support.sup) if support.sup.is_finite else lo + 400
            return mpmath.fsum(density(k) * f(k) for k in range(lo, hi + 1))
        lo, hi = (mpmath.mpf(sp.Float(v, 30)) if v.is_finite else (mpmath.inf if v > 0 else -mpmath.inf)
                  for v in (support.inf, support.sup))
        loc = float(vals[0]) if fam.name in ("normal", "laplace", "gumbel", "cauchy", "logistic", "moyal") else None
        points = [lo, loc, hi] if loc is not None else [lo, hi]
        return mpmath.quad(lambda t: density(t) * f(t), points)


@pytest.mark.parametrize("fam", FAMILIES, ids=lambda f: f.label)
def test_density_is_normalized(fam):
    assert abs(expectation(fam, lambda t: 1) - 1) < 1e-25


@pytest.mark.parametrize("fam", [f for f in FAMILIES if f.exp_family], ids=lambda f: f.label)
def test_exponential_family_form_equals_log_density(fam):
    ef, syms = fam.exp_family, fam.symbols()
    x = fam.variable()
    eta = ef.natural(*syms)
    form = sum(e * t for e, t in zip(eta, ef.statistics(x, *syms))) - ef.log_partition(eta, *syms) + ef.log_base(x, *syms)
    diff = (form - fam.log_density(x, *syms)).subs(dict(zip(syms, values(fam))))
    for point in (sp.Integer(1), sp.Integer(2)) if fam.discrete else (sp.Rational(1, 3), sp.Rational(2, 3)):
        assert abs(sp.N(diff.subs(x, point), 30)) < 1e-25


@pytest.mark.parametrize("fam", [f for f in FAMILIES if f.mgf], ids=lambda f: f.label)
@pytest.mark.parametrize("t", [sp.Rational(-1, 4), sp.Rational(1, 5)])
def test_mgf_matches_the_density(fam, t):
    declared = sp.N(fam.mgf(t, *values(fam)), 30)
    assert abs(expectation(fam, lambda s: mpmath.exp(mpmath.mpf(t.p) / t.q * s)) - declared) < 1e-22


@pytest.mark.parametrize("fam", [f for f in FAMILIES if f.mellin], ids=lambda f: f.label)
@pytest.mark.parametrize("t", [sp.Rational(1, 2), sp.Integer(2)])
def test_mellin_transform_matches_the_density(fam, t):
    declared = sp.N(fam.mellin(t, *values(fam)), 30)
    assert abs(expectation(fam, lambda s: mpmath.power(s, mpmath.mpf(t.p) / t.q)) - declared) < 1e-22


@pytest.mark.parametrize("fam", [f for f in FAMILIES if f.affine], ids=lambda f: f.label)
def test_affine_form_matches_the_density(fam):
    """X = loc + scale*Z: the density of X equals the standard density of (x - loc)/scale, divided by scale."""
    x, syms = fam.variable(), fam.symbols()
    loc, scale, standard = fam.affine(*syms)
    z = (x - loc) / scale
    mapped = fam.log_density(z, *standard) - sp.log(scale)
    diff = (mapped - fam.log_density(x, *syms)).subs(dict(zip(syms, values(fam)))).subs(x, sp.Rational(1, 3))
    assert abs(sp.N(diff, 30)) < 1e-25


@pytest.mark.parametrize("fam", [f for f in FAMILIES if f.transformation], ids=lambda f: f.label)
def test_transformation_matches_the_density(fam):
    """X = g(Y): E[cos(X)] (bounded, so it exists for every family) by quadrature under X's density and under Y's."""
    base, base_values, g = fam.transformation(*values(fam))
    y = sp.Symbol("y", real=True)
    gy = sp.lambdify(y, g(y), "mpmath")
    with mpmath.workdps(30):
        lo, hi = (mpmath.mpf(sp.Float(v, 30)) if v.is_finite else (mpmath.inf if v > 0 else -mpmath.inf)
                  for v in (base.support(*base_values).inf, base.support(*base_values).sup))
        density = sp.lambdify(y, sp.exp(base.log_density(y, *base_values)), "mpmath")
        under_base = mpmath.quad(lambda t: density(t) * mpmath.cos(gy(t)), [lo, hi])
    assert abs(expectation(fam, mpmath.cos) - under_base) < 1e-20


@pytest.mark.parametrize("c, d", [(sp.Rational(1, 2), sp.Rational(3, 2)), (sp.Integer(-4), sp.Rational(1, 10))])
def test_cauchy_supplied_expectation_matches_the_density(c, d):
    """The one supplied expectation, E[log((X - c)**2 + d**2)], against quadrature of the density."""
    cauchy = next(f for f in FAMILIES if f.name == "cauchy")
    x = sp.Dummy("x", real=True)
    supplied = cauchy.known_expectation(sp.log(sp.expand((x - c)**2 + d**2)), x, *values(cauchy))
    reference = expectation(cauchy, lambda t: mpmath.log((t - mpmath.mpf(c.p) / c.q)**2 + (mpmath.mpf(d.p) / d.q)**2))
    assert abs(sp.N(supplied, 30) - reference) < 1e-20
