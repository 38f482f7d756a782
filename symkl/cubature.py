"""Numeric values of the definitions for a vector X, by one-dimensional quadratures instead of a d-dimensional one.

A chart x = x(u) is sought in which P's density is a product of one-coordinate factors: the whitening
x = m + L u of a log-density quadratic in x (m its mode, L L^T the inverse of minus its Hessian), or the
stick-breaking map of the simplex. The integrand, written in u, is expanded into products of one-coordinate
functions, and each factor's expectation is a one-dimensional quadrature (Fubini). Only the declared
log-densities are used, none of the derivation's moments, generating functions or identities; where no chart
separates them the value is None (inconclusive), never a guess.
"""
from __future__ import annotations

from collections import defaultdict
from functools import lru_cache

import mpmath
import sympy as sp

from .quadrature import _piece, _power, _weighted

METHODS = ("tanh-sinh", "gauss-legendre")
_U = sp.symbols("u1:65", real=True)


def integrate_vector(quantity: str, fp, p_values: tuple, fq, q_values: tuple, dps: int = 50,
                     methods: tuple = METHODS):
    """The quantity at the given values; None when P's support differs from Q's, when no chart separates the
    integral, or when the quadrature methods disagree."""
    if fq is not None and quantity != "entropy" and fp.support(*p_values) != fq.support(*q_values):
        return None
    x = fp.variable()
    with mpmath.workdps(dps + 20):
        log_p = fp.log_density_at(x, *p_values)
        log_q = fq.log_density_at(x, *q_values) if fq is not None else log_p
        integrand = {"kl": log_p - log_q, "cross_entropy": -log_q, "entropy": -log_p}[quantity]
        chart = _simplex_chart(fp, p_values, x) or _whitening_chart(log_p, x)
        if chart is None:
            return None
        u, to_x, log_jacobian, interval = chart
        marginals = _separate_density(_expanded(log_p.xreplace(to_x) + log_jacobian), u, dps)
        terms = _separate_integrand(_expanded(integrand.xreplace(to_x)), u)
        if marginals is None or terms is None:
            return None
        values = [_sum_of_products(terms, marginals, u, interval, method) for method in methods]
        agree = all(abs(v - values[0]) <= mpmath.mpf(10) ** (5 - dps) * max(1, abs(values[0])) for v in values)
        return +values[0] if agree else None


def _expanded(expr: sp.Expr) -> sp.Expr:
    return sp.expand(sp.expand_log(expr, force=True))


def _simplex_chart(fam, values, x):
    """x_i = u_i (1 - u_1)...(1 - u_{i-1}), x_K = (1 - u_1)...(1 - u_{K-1}) on (0, 1)^(K-1), when P lives on
    the simplex x1 + ... + xK = 1; the density is with respect to x1..x_{K-1}."""
    support = fam.support(*values)
    if not (isinstance(support, sp.ConditionSet) and isinstance(support.condition, sp.Eq)
            and support.condition.rhs == 1 and support.condition.lhs == sp.Add(*support.sym)):
        return None
    k = len(x)
    u = list(_U[:k - 1])
    rest, to_x = sp.S.One, {}
    for i, ui in enumerate(u):
        to_x[x[i]] = ui * rest
        rest *= 1 - ui
    to_x[x[k - 1]] = rest
    log_jacobian = sp.Add(*[(k - 2 - i) * sp.log(1 - ui) for i, ui in enumerate(u)])
    return u, to_x, log_jacobian, (sp.S.Zero, sp.S.One)


def _whitening_chart(log_p, x):
    """x = m + L u for a log-density quadratic in x with negative definite Hessian (a normal density): then
    the density of u is the standard normal's, a product."""
    coords = list(x)
    if not log_p.is_polynomial(*coords) or sp.Poly(log_p, *coords).total_degree() != 2:
        return None
    hessian = -sp.hessian(log_p, coords)
    if not all(hessian[:k, :k].det() > 0 for k in range(1, len(coords) + 1)):
        return None
    gradient_at_0 = sp.Matrix([sp.diff(log_p, c) for c in coords]).subs({c: 0 for c in coords})
    covariance = hessian.inv()
    mode = covariance * gradient_at_0
    chol = mpmath.cholesky(mpmath.matrix([[_mp(covariance[i, j]) for j in range(len(coords))]
                                          for i in range(len(coords))]))
    factor = sp.Matrix(len(coords), len(coords), lambda i, j: sp.Float(chol[i, j], mpmath.mp.dps))
    u = list(_U[:len(coords)])
    image = mode + factor * sp.Matrix(u)
    log_jacobian = sp.Add(*[sp.log(factor[i, i]) for i in range(len(coords))])
    return u, dict(zip(coords, image)), log_jacobian, (-sp.oo, sp.oo)


def _separate_density(log_weight, u, dps):
    """log p in the chart as one function of each u_i (constants dropped, rounding-level cross terms of a
    floating-point chart ignored); None when a term ties two coordinates together."""
    parts = defaultdict(lambda: sp.S.Zero)
    tiny = mpmath.mpf(10) ** (-dps - 10)
    for term in sp.Add.make_args(log_weight):
        used = [ui for ui in u if term.has(ui)]
        if len(used) > 1:
            coeff = term.as_independent(*u)[0]
            if coeff.is_Number and abs(_mp(coeff)) < tiny:
                continue
            return None
        if used:
            parts[used[0]] += term
    return [parts[ui] for ui in u]


def _separate_integrand(f, u):
    """f as [(coefficient, {u_i: factor})], each factor a function of one coordinate; None if f does not split."""
    terms = []
    for term in sp.Add.make_args(f):
        coeff, factors = sp.S.One, defaultdict(lambda: sp.S.One)
        for factor in sp.Mul.make_args(term):
            used = [ui for ui in u if factor.has(ui)]
            if len(used) > 1:
                return None
            if used:
                factors[used[0]] *= factor
            else:
                coeff *= factor
        terms.append((coeff, dict(factors)))
    return terms


def _sum_of_products(terms, marginals, u, interval, method):
    """sum of coefficient * prod_i E_i[factor_i(u_i)], each E_i a one-dimensional quadrature under marginal i."""
    total = mpmath.mpf(0)
    for coeff, factors in terms:
        value = _mp(coeff)
        for ui, factor in factors.items():
            value *= _expectation(marginals[u.index(ui)], factor, ui, interval, method, mpmath.mp.dps)
        total += value
    return total


@lru_cache(maxsize=1024)
def _expectation(log_weight, factor, u, interval, method, dps):
    """E[factor(U)] for U with density proportional to exp(log_weight) on the interval (cached: KL, H(P, Q) and
    H(P) at one point share P's marginals)."""
    with mpmath.workdps(dps):
        a, b = (_mp(e) for e in interval)
        ends = [_near(log_weight, f, u, end, side, dps)
                for f in (factor, sp.S.One) for end, side in zip(interval, (1, -1))]
        return (_piece(_weighted(u, log_weight, factor, dps), a, b, method, *ends[:2], graded=True)
                / _piece(_weighted(u, log_weight, sp.S.One, dps), a, b, method, *ends[2:], graded=True))


def _near(log_weight, factor, u, end, side, dps):
    """(weight * factor in the distance y to a finite end, the power of y = t**m that smooths it there): a
    Dirichlet shape of 1/100 puts u**-0.99 at an end, where neither quadrature converges in u itself."""
    if not end.is_finite:
        return None
    y = sp.Symbol("y", positive=True)
    shift = {u: end + side * y}
    return (_weighted(y, log_weight.xreplace(shift), factor.xreplace(shift), dps),
            _power(sp.lambdify(y, log_weight.xreplace(shift), "mpmath")))


def _mp(value):
    if isinstance(value, mpmath.mpf):
        return value
    if value in (sp.oo, -sp.oo) or isinstance(value, float) and mpmath.isinf(value):
        return mpmath.inf if value > 0 else -mpmath.inf
    return mpmath.mpf(sp.Float(sp.N(value, mpmath.mp.dps), mpmath.mp.dps)._mpf_)
