"""E_P[f(X)]: expand f into terms, take each term's expectation from P's declaration, never per pair.

The rules, in order of preference (each per family): direct summation over a small finite support; the
exponential-family route (moments of sufficient statistics from the log-partition); generating functions
(E[X^k e^(cX)] from the MGF, E[X^a log(X)^m] from the Mellin transform E[X^t]); a declared transformation
X = g(Y) (E[h(g(Y))] under the base family); integration over the standardized density for |m(X) - c| (kinks
split, mirror-image cases folded into Abs); integration over the support within a time budget; for a discrete
family, summation, kept as an exact unevaluated series when it has no closed form (it cancels between the two
sides of a proof). The generating functions are used inside their domains only: the catalog's terms need
nonnegative moments and t near 0. A vector X has its own rules (``vector``): independent coordinates, the joint
moment generating function, and for a symbolic dimension the quadratic-form identity.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from .budget import attempt
from .family import Family
from .support import bounds
from .vector import by_components, by_joint_mgf, coordinates, expect_matrix

INTEGRATION_SECONDS = 4.0


@dataclass(frozen=True)
class Step:
    """One derivation step: a title, the expression it produced, and how (the rule used)."""

    title: str
    expr: sp.Basic | None = None
    how: str = ""


class NoClosedForm(Exception):
    """No rule found a closed form for an expectation (the message names the term and the family)."""


def split_terms(f: sp.Expr, x: sp.Symbol) -> dict[sp.Expr, sp.Expr]:
    """f as {h(x): coefficient}: f = sum of coefficient * h(x), coefficients free of x."""
    f = sp.expand(sp.expand_log(f))
    terms: dict[sp.Expr, sp.Expr] = {}
    for term in sp.Add.make_args(f):
        coeff, h = term.as_independent(*coordinates(x), as_Add=False)
        terms[h] = terms.get(h, 0) + coeff
    return {h: c for h, c in terms.items() if c != 0}


def expect(fam: Family, params: tuple, f: sp.Expr, x: sp.Symbol) -> tuple[sp.Expr, list[Step]]:
    """E[f(X)] for X ~ fam(params): the value and the steps that derived it; NoClosedForm when no rule applies."""
    if isinstance(x, sp.MatrixSymbol):
        return expect_matrix(fam, params, f, x)
    support = fam.support(*params)
    if _is_explicit_finite(support):
        points = list(_points(support))
        pmf = [fam.density(k, *params) for k in points]
        value = sp.Add(*[w * f.subs(x, k) for w, k in zip(pmf, points)])
        return value, [Step(f"E[{f}]", value, f"sum over the {len(points)} support points")]
    total, steps = sp.S.Zero, []
    for h, coeff in split_terms(f, x).items():
        if h == 1:
            total += coeff
            continue
        value, how = expect_term(fam, params, h, x)
        steps.append(Step(f"E[{h}]", value, how))
        total += coeff * value
    return total, steps


def expect_term(fam: Family, params: tuple, h: sp.Expr, x: sp.Symbol) -> tuple[sp.Expr, str]:
    """E[h(X)] for one term, cached per family in the family's own symbols."""
    canonical = dict(zip(params, fam.symbols()))
    dummies = {xi: sp.Dummy(xi.name, **xi.assumptions0) for xi in coordinates(x)}
    x0 = x.xreplace(dummies) if isinstance(x, sp.MatrixBase) else dummies[x]
    found = _expect_canonical(fam, h.subs(canonical).xreplace(dummies), sp.ImmutableMatrix(x0) if
                              isinstance(x0, sp.MatrixBase) else x0)
    if found is None:
        shown = h.xreplace({xi: sp.Symbol(xi.name) for xi in coordinates(x)})
        raise NoClosedForm(f"no closed form found for E[{shown}] under {fam.label}")
    value, how = found
    return value.subs({v: k for k, v in canonical.items()}), how


@lru_cache(maxsize=4096)
def _expect_canonical(fam: Family, h: sp.Expr, x: sp.Symbol) -> tuple[sp.Expr, str] | None:
    """The first rule's answer for E[h(X)] in the family's own symbols; None (cached too) when none applies."""
    params = fam.symbols()
    rules = (_by_statistic, by_components, by_joint_mgf) if fam.dim is not None else \
        (_by_statistic, _by_mgf, _by_mellin, _by_transformation, _by_standardized_abs, _by_integral, _by_series)
    for rule in rules:
        found = rule(fam, params, h, x)
        if found is not None:
            return (found[0] if found[0].has(sp.Sum) else _tidy(found[0])), found[1]
    return None


def _tidy(value: sp.Expr) -> sp.Expr:
    """A readable form of one expectation: gamma ratios cancelled, erfc as erf, rational parts factored."""
    value = sp.expand_log(sp.powsimp(value.rewrite(sp.erf) if value.has(sp.erfc) else value))
    if value.has(sp.gamma):
        value = sp.gammasimp(value)
    if value.is_rational_function():
        return sp.factor(value)
    return sp.factor_terms(value)


def _by_statistic(fam, params, h, x):
    """E[prod T_i^m_i] for sufficient statistics T, from the statistics' MGF exp(A(eta + s) - A(eta)) at s = 0.

    For a single statistic this is E[T_i] = dA/deta_i.
    """
    ef = fam.exp_family
    if ef is None:
        return None
    stats = [sp.expand(sp.expand_log(t)) for t in ef.stats(x)]
    powers = _statistic_powers(h, stats)
    if powers is None:
        return None
    eta = fam.natural_symbols()
    s = [sp.Dummy(f"s{i}") for i in range(len(eta))]
    log_mgf = ef.log_partition(tuple(e + si for e, si in zip(eta, s)), *params) - ef.log_partition(eta, *params)
    value = sp.exp(log_mgf)
    for si, m in zip(s, powers):
        value = sp.diff(value, si, m) if m else value
    value = value.subs({si: 0 for si in s}).subs(dict(zip(eta, ef.natural(*params))))
    names = " ".join(f"T{i + 1}^{m}" if m > 1 else f"T{i + 1}" for i, m in enumerate(powers) if m)
    return sp.simplify(value), f"exponential family: E[{names}] from the log-partition A(eta)"


def _statistic_powers(h, stats):
    """Exponents m with h = prod T_i^m_i, or None when h is not a product of sufficient statistics."""
    if h in stats:
        return [int(t == h) for t in stats]
    powers = [0] * len(stats)
    for factor in sp.Mul.make_args(h):
        base, exponent = factor.as_base_exp()
        if base not in stats or not (exponent.is_Integer and exponent > 0):
            return None
        powers[stats.index(base)] += int(exponent)
    return powers


def _factor_powers(h, x, kind):
    """Split h into (power of x, power of kind(...)): the shape x**a * log(x)**m or x**k * exp(c*x)."""
    a, extra = sp.S.Zero, None
    for factor in sp.Mul.make_args(h):
        base, exponent = factor.as_base_exp()
        if base == x and not exponent.has(x):
            a += exponent
        elif kind == "log" and base == sp.log(x) and exponent.is_Integer and exponent > 0 and extra is None:
            extra = exponent
        elif kind == "exp" and isinstance(factor, sp.exp) and extra is None:
            c = sp.expand(factor.args[0] / x)
            if c.has(x):
                return None
            extra = c
        else:
            return None
    return a, extra


def _by_mgf(fam, params, h, x):
    """E[X^k exp(cX)] = M^(k)(c) from the moment generating function."""
    shape = _factor_powers(h, x, "exp") if fam.mgf else None
    if shape is None or not (shape[0].is_Integer and shape[0] >= 0):
        return None
    k, c = int(shape[0]), shape[1] if shape[1] is not None else sp.S.Zero
    t = sp.Symbol("t")
    value = sp.diff(fam.mgf(t, *params), t, k).subs(t, c)
    return sp.simplify(value), f"moment generating function: M^({k})({c})"


def _by_mellin(fam, params, h, x):
    """E[X^a log(X)^m] = d^m/dt^m E[X^t] at t = a, from the Mellin transform."""
    shape = _factor_powers(h, x, "log") if fam.mellin else None
    if shape is None:
        return None
    a, m = shape[0], int(shape[1] or 0)
    t = sp.Symbol("t")
    value = sp.diff(fam.mellin(t, *params), t, m).subs(t, a)
    return sp.expand(sp.gammasimp(value)), f"Mellin transform: d^{m}/dt^{m} E[X^t] at t = {a}"


def _by_transformation(fam, params, h, x):
    """E[h(X)] = E[h(g(Y))] for a family declared as X = g(Y) with Y from a base family (lognormal = exp(normal))."""
    if fam.transformation is None:
        return None
    base, base_params, g = fam.transformation(*params)
    y = base.variable()
    value, how = expect_term(base, base_params, h.subs(x, g(y)), y)
    return value, f"X = {g(sp.Symbol('Y'))} with Y ~ {base.label}; {how}"


def _by_standardized_abs(fam, params, h, x):
    """E|m(X) - c| for m monotone: where c is outside m's range on the support it is +-(E[m(X)] - c); inside,
    X = loc + scale*Z and the kink d = (m^-1(c) - loc)/scale splits the integral over the standard density."""
    if fam.affine is None or fam.discrete or not isinstance(h, sp.Abs):
        return None
    shift, m = h.args[0].as_independent(x, as_Add=True)
    c, slope = -shift, sp.diff(m, x)
    if slope.is_negative:
        m, c = -m, -c
    elif not slope.is_positive:
        return None
    lo, hi = bounds(fam.support(*params))
    m_lo, m_hi = (sp.limit(m, x, lo, "+") if lo.is_infinite else m.subs(x, lo),
                  sp.limit(m, x, hi, "-") if hi.is_infinite else m.subs(x, hi))
    kink = [r for r in sp.solve(sp.Eq(m, c), x) if r.is_real is not False]
    if len(kink) != 1:
        return None
    loc, scale, standard = fam.affine(*params)
    z, d, s = sp.Dummy("z", real=True), sp.Dummy("d", real=True), sp.Dummy("s", positive=True)
    inner = m.subs(x, loc + s * z) - m.subs(x, loc + s * d)
    cases = _integrate_abs(fam, tuple(sp.sympify(v) for v in standard), z, d, inner)  # safe: declared numbers
    if cases is None:
        return None
    at_kink = {d: (kink[0] - loc) / scale, s: scale}
    image = lambda edge: m.subs(x, loc + scale * edge)  # noqa: E731 - a standard-scale edge in c's terms
    pieces = [(_tidy(value.subs(at_kink)),
               sp.And(c > m_lo, c < m_hi, *[c >= image(low) for _ in [0] if low != cases[0][1]],
                      *[c <= image(high) for _ in [0] if high != cases[-1][2]]))
              for value, low, high in cases]
    if m_lo.is_finite or m_hi.is_finite:
        mean = expect_term(fam, params, m, x)[0]
        pieces = ([(_tidy(mean - c), c <= m_lo)] if m_lo.is_finite else []) + pieces + \
                 ([(_tidy(c - mean), c >= m_hi)] if m_hi.is_finite else [])
    value = pieces[0][0] if len(pieces) == 1 else sp.Piecewise(*pieces[:-1], (pieces[-1][0], True))
    return value, "standardized: X = loc + scale*Z, the integral of |m(X) - c| split where m(X) = c"


def _integrate_abs(fam, std_params, z, d, inner):
    """E|inner(Z, d)| with the kink at Z = d inside the standard support: [(value in d, low, high)] for each
    stretch between the density's own kinks where d may lie."""
    support = fam.support(*std_params)
    density = fam.density(z, *std_params)
    lo, hi = support.inf, support.sup
    kinks = sorted({k for a in density.atoms(sp.Abs) for k in sp.solve(a.args[0], z)})
    edges = [lo, *kinks, hi]
    cases = []
    for low_edge, high_edge in zip(edges, edges[1:]):
        order = edges[:edges.index(high_edge)] + [d] + edges[edges.index(high_edge):]
        try:
            value = attempt(INTEGRATION_SECONDS, "integration", lambda: sum(
                _integrate_piece(density * sp.Abs(inner), z, order, i) for i in range(len(order) - 1)))
        except (NotImplementedError, ValueError, TypeError):
            return None
        if value is None or value.has(sp.Integral, sp.nan, sp.zoo):
            return None
        cases.append((sp.expand(sp.simplify(value).rewrite(sp.erf)), low_edge, high_edge))
    return _fold_symmetric(cases, d)


def _integrate_piece(integrand, z, points, i):
    """Integrate over (points[i], points[i+1]) with each |u(z)| (u monotone, zero at one of the points)
    resolved by the side of that point the piece lies on."""
    def resolve(e):
        u = e.args[0]
        kink = next(p for p in points if p.is_finite and sp.simplify(u.subs(z, p)) == 0)
        side = 1 if points.index(kink) <= i else -1
        return u * side * sp.sign(sp.diff(u, z).subs(z, kink))
    resolved = integrand.replace(lambda e: isinstance(e, sp.Abs) and e.has(z), resolve)
    return sp.integrate(sp.expand(resolved), (z, points[i], points[i + 1]), conds="none")


def _fold_symmetric(cases, d):
    """Two mirror-image cases (d < 0 and d > 0, one the other's reflection) become one expression in |d|."""
    if len(cases) == 2 and cases[0][2] == 0 == cases[1][1]:
        (neg, _, _), (pos, _, _) = cases
        if sp.simplify(neg - pos.subs(d, -d)) == 0:
            return [(pos.subs(d, sp.Abs(d)), -sp.oo, sp.oo)]
    return cases


def _by_integral(fam, params, h, x):
    """Integrate density * h over the support (continuous families without kinks), within a time budget."""
    if fam.discrete:
        return None
    support = fam.support(*params)
    density = fam.density(x, *params)
    try:
        value = attempt(INTEGRATION_SECONDS, "integration",
                        lambda: sp.integrate(sp.expand(density * h), (x, support.inf, support.sup), conds="none"))
    except (NotImplementedError, ValueError, TypeError):
        return None
    if value is None or value.has(sp.Integral, sp.nan, sp.zoo, sp.I):
        return None  # an expectation of a real function: an imaginary part is sympy's error (gumbel's E[X] + i*pi)
    return sp.expand(value), f"integration over {support}"


def _by_series(fam, params, h, x):
    """A discrete expectation: the sum over the support, evaluated if sympy can, else kept as an exact series."""
    if not fam.discrete:
        return None
    support = fam.support(*params)
    k = sp.Symbol("k", integer=True, nonnegative=True)
    series = sp.Sum(fam.density(k, *params) * h.subs(x, k), (k, support.inf, support.sup))
    try:
        value = attempt(INTEGRATION_SECONDS, "summation", series.doit)
        if value is not None and not value.has(sp.Sum, sp.nan):
            return sp.simplify(value), f"summation over {support}"
    except (NotImplementedError, ValueError, TypeError):
        pass
    return series, "no closed form: kept as an exact series"


def _is_explicit_finite(support) -> bool:
    if isinstance(support, sp.FiniteSet):
        return True
    return isinstance(support, sp.Range) and support.size.is_Integer and support.size <= 256


def _points(support):
    return support if isinstance(support, sp.FiniteSet) else list(support)
