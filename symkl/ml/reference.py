"""Independent numeric references for the identities of ``symkl.ml``: E_P[f(X)] from P's declared log-density by
mpmath quadrature (tanh-sinh, split at P's and Q's bulk) or by summation (from the largest term
outward, until the terms are negligible), and the digits two numbers agree to. Nothing here uses a derived formula.
"""
from __future__ import annotations

import mpmath
import sympy as sp

from ..quadrature import _landmarks, _piece
from ..series import mpmath_sum
from ..support import bounds

DPS = 50
PASS_DIGITS = 40


def log_density(fam, values, dps: int = DPS):
    """x -> log p(x) for P = fam(values), as an mpmath function (its constant parts evaluated once); for a
    discrete P the log of its mass function, so that p = 0 or 1 gives log 0 = -inf only where there is no mass."""
    if fam.discrete:
        pmf = mass_function(fam, values, dps)
        return lambda k: mpmath.log(pmf(k))
    x = sp.Symbol("x", real=True)
    return sp.lambdify(x, sp.N(fam.log_density(x, *values), dps + 20), "mpmath")


def mass_function(fam, values, dps: int = DPS):
    """k -> p(k) for a discrete P: its density as powers (p**x (1 - p)**(1 - x)), the values passed as mpmath
    numbers, so that p = 1 gives 0**0 = 1 and 0**1 = 0 where log 0 would appear."""
    x, params = sp.Symbol("x", integer=True), fam.symbols()
    pmf = sp.lambdify((x, *params), fam.density(x, *params), "mpmath")
    with mpmath.workdps(dps + 20):
        args = [_mp(v) for v in values]
    return lambda k: pmf(mpmath.mpf(k), *args)


def expectation(fam, values, f, dps: int = DPS, near=()):
    """E[f(X)] for X ~ fam(values), f an mpmath function of x; ``near`` = other (family, values) whose bulk the
    quadrature is also split at (Q's, when f involves q). One rule, tanh-sinh (robust at singular ends), suffices
    here: each value is compared with a closed form, and a quadrature that has not converged cannot agree with
    one to 40 digits."""
    with mpmath.workdps(dps + 10):
        if fam.discrete:
            return _sum(fam, values, f, dps)
        if fam.transformation is not None:  # X = g(Y): integrate over Y, where the mass is not spread over decades
            base, base_values, g = fam.transformation(*values)
            y = sp.Symbol("y", real=True)
            gy = sp.lambdify(y, g(y), "mpmath")
            near = [o.transformation(*v)[:2] if o.transformation is not None else (o, v) for o, v in near]
            return expectation(base, base_values, lambda t: f(gy(t)), dps, near)
        lp = log_density(fam, values, dps)
        g = lambda t: mpmath.exp(lp(t)) * f(t)
        lo, hi = (_mp(v) for v in bounds(fam.support(*values)))
        cuts, bulk = _cuts(fam, values), [lp]
        for other, other_values in near:
            cuts |= _cuts(other, other_values)
            bulk.append(log_density(other, other_values, dps))
        points = [lo] + sorted(c for c in cuts if lo < c < hi and _in_bulk(bulk, c)) + [hi]
        return _integrate(g, points)


def _integrate(g, points):
    """Plain tanh-sinh over the pieces between the split points; a piece ending at a finite support end with the
    graded substitution of symkl.quadrature (an integrable singularity there, such as x^(a - 1))."""
    first, last = [], []
    if mpmath.isfinite(points[0]):
        first, points = [_piece(g, points[0], points[1], "tanh-sinh", graded=True)], points[1:]
    if mpmath.isfinite(points[-1]) and len(points) > 1:
        last, points = [_piece(g, points[-2], points[-1], "tanh-sinh", graded=True)], points[:-1]
    middle = [mpmath.quad(g, points)] if len(points) > 1 else []
    return mpmath.fsum(first + middle + last)


COARSE = (-16, -4, -1, 0, 1, 4, 16)


def _cuts(fam, values) -> set:
    """Split points over the bulk: loc + k scale (k in COARSE) for a location-scale family (its integrands here are
    smooth: a few pieces suffice), else symkl.quadrature's landmarks."""
    if fam.affine is not None:
        loc, scale, _ = fam.affine(*values)
        return {_mp(loc + k * scale) for k in COARSE}
    return {_mp(c) for c in _landmarks(fam, values)}


def _in_bulk(log_densities, x) -> bool:
    """Whether P's or Q's density at x is above e^-300: split points further out only slow quadrature down."""
    try:
        return any(ld(x) > -300 for ld in log_densities)
    except (ValueError, ZeroDivisionError):
        return False


def _sum(fam, values, f, dps):
    """The series sum p(k) f(k) over the support, from its largest term outward (symkl.series)."""
    lo, hi = bounds(fam.support(*values))
    pmf = mass_function(fam, values, dps)
    return mpmath_sum(lambda k: _term(pmf, f, int(k)), int(lo), mpmath.inf if hi.is_infinite else int(hi))


def _term(pmf, f, k):
    weight = pmf(k)
    return weight * f(k) if weight else mpmath.mpf(0)


def digits(closed, numeric) -> float:
    """Decimal digits to which two numbers agree (relative; absolute below 1e-45), at most DPS."""
    with mpmath.workdps(DPS + 20):
        closed, numeric = mpmath.mpf(closed), mpmath.mpf(numeric)
        diff = abs(closed - numeric)
        if diff == 0 or diff <= mpmath.mpf(10) ** -(DPS + 5):
            return float(DPS)
        scale = max(abs(closed), abs(numeric), mpmath.mpf(10) ** -45)
        return float(min(DPS, -mpmath.log10(diff / scale)))


def value(expr: sp.Expr, dps: int = DPS):
    """An exact sympy number at dps digits as an mpf (ValueError when it is not a finite real number)."""
    number = sp.N(expr, dps + 10)
    if not number.is_real or not number.is_finite:
        raise ValueError(f"not a finite real number: {expr}")
    with mpmath.workdps(dps + 10):
        return mpmath.mpf(sp.Float(number, dps + 10)._mpf_)


def _mp(v):
    v = sp.N(v, mpmath.mp.dps)
    if v.is_infinite:
        return mpmath.inf if v > 0 else -mpmath.inf
    return mpmath.mpf(sp.Float(v, mpmath.mp.dps)._mpf_)
