"""Numeric values of the defining integrals and sums with mpmath, independent of the symbolic derivation.

Integrals run over the support split at the kinks of |x - c| and the support ends; near a finite end the
substitution x = end +- u**4 tames integrable singularities such as x**(a - 1) under a beta or gamma density.
Sums run term by term until a geometric bound on the tail is below the target precision.
"""
from __future__ import annotations

import mpmath
import sympy as sp

from .support import bounds

MAX_TERMS = 200_000


def numeric_value(quantity: str, fp, p_values: tuple, fq, q_values: tuple, dps: int = 50):
    """The quantity's defining integral at the given values (tanh-sinh), the fallback without a closed form."""
    if fp.dim is not None:
        from .cubature import integrate_vector
        return integrate_vector(quantity, fp, p_values, fq, q_values, dps, methods=("tanh-sinh",))
    return _integral(quantity, fp, p_values, fq, q_values, dps, "tanh-sinh")


def integrate_definition(quantity: str, fp, p_values: tuple, fq, q_values: tuple, dps: int = 50):
    """An independent value of the quantity: mpmath.inf when P has measured mass where Q has none; None when
    the two quadrature methods (tanh-sinh, Gauss-Legendre) disagree or a sum does not reach its tail bound."""
    if fp.dim is not None:
        from .cubature import integrate_vector
        return integrate_vector(quantity, fp, p_values, fq, q_values, dps)
    if fp.discrete:
        return _sum(quantity, fp, p_values, fq, q_values, dps)
    if fq is not None and quantity != "entropy" and _mass_outside(fp, p_values, fq, q_values, dps) > 0:
        return mpmath.inf
    first = _integral(quantity, fp, p_values, fq, q_values, dps, "tanh-sinh")
    second = _integral(quantity, fp, p_values, fq, q_values, dps, "gauss-legendre")
    with mpmath.workdps(dps + 20):
        agree = abs(first - second) <= mpmath.mpf(10) ** (5 - dps) * max(1, abs(first))
    return first if agree else None


def _integrands(quantity, fp, p_values, fq, q_values, x):
    log_p = fp.log_density(x, *p_values)
    log_q = fq.log_density(x, *q_values) if fq is not None else log_p
    return log_p, {"kl": log_p - log_q, "cross_entropy": -log_q, "entropy": -log_p}[quantity]


def _integral(quantity, fp, p_values, fq, q_values, dps, method):
    x = sp.Symbol("x", real=True)
    log_p, integrand = _integrands(quantity, fp, p_values, fq, q_values, x)
    with mpmath.workdps(dps + 20):
        weight = sp.lambdify(x, sp.exp(log_p), "mpmath")
        f = sp.lambdify(x, integrand, "mpmath")
        lo, hi = (_mp(v) for v in bounds(fp.support(*p_values)))
        cuts = sorted({_mp(c) for c in _kinks(x, integrand, log_p) | _landmarks(fp, p_values)} - {lo, hi})
        points = [lo] + [c for c in cuts if lo < c < hi] + [hi]
        return mpmath.fsum(_piece(lambda t: _product(weight, f, t), a, b, method)
                           for a, b in zip(points, points[1:]))


def _mass_outside(fp, p_values, fq, q_values, dps):
    """P's probability on the parts of its support that lie outside Q's support."""
    x = sp.Symbol("x", real=True)
    (lo_p, hi_p), (lo_q, hi_q) = bounds(fp.support(*p_values)), bounds(fq.support(*q_values))
    gaps = [(lo_p, min(lo_q, hi_p))] if lo_p < lo_q else []
    gaps += [(max(hi_q, lo_p), hi_p)] if hi_p > hi_q else []
    with mpmath.workdps(dps):
        weight = sp.lambdify(x, sp.exp(fp.log_density(x, *p_values)), "mpmath")
        return mpmath.fsum(_piece(lambda t: _product(weight, lambda _: 1, t), _mp(a), _mp(b), "tanh-sinh")
                           for a, b in gaps if a < b)


def _sum(quantity, fp, p_values, fq, q_values, dps):
    """Term by term from the lowest support point; stop once the terms shrink geometrically below the target."""
    from .divergence import density_at
    k = sp.Symbol("k", integer=True, nonnegative=True)
    lo, hi = bounds(fp.support(*p_values))
    _, integrand = _integrands(quantity, fp, p_values, fq, q_values, k)
    q_support = fq.support(*q_values) if fq is not None else None
    with mpmath.workdps(dps + 20):
        total, ratios, previous = mpmath.mpf(0), [], None
        for n in range(int(lo), int(lo) + MAX_TERMS):
            if hi.is_finite and n > hi:
                return total
            weight = density_at(fp, n, p_values)
            if weight == 0:
                continue
            if q_support is not None and quantity != "entropy" and q_support.contains(n) is not sp.true:
                return mpmath.inf
            term = mpmath.mpf(sp.N(weight * integrand.subs(k, n), dps + 20)._mpf_)
            total += term
            if previous:
                ratios = (ratios + [abs(term / previous)])[-10:]
            previous = term if term else previous
            r = max(ratios) if len(ratios) == 10 else 1
            if r < 1 and abs(term) * r / (1 - r) < mpmath.mpf(10) ** (-dps - 5) * max(1, abs(total)):
                return total
    return None


def _mp(v):
    if v.is_infinite:
        return mpmath.inf if v > 0 else -mpmath.inf
    return mpmath.mpf(sp.Float(sp.N(v, mpmath.mp.dps), mpmath.mp.dps)._mpf_)


def _product(weight, f, t):
    """p(t) * f(t), with 0 where t has rounded onto a support end (the node's weight there is negligible)."""
    try:
        w = weight(t)
        v = w * f(t) if w != 0 else w
    except (ZeroDivisionError, ValueError):
        return mpmath.mpf(0)
    return v if mpmath.isfinite(v) else mpmath.mpf(0)


_STEPS = (-32, -16, -8, -4, -2, -1, 0, 1, 2, 4, 8, 16, 32, 64)


def _landmarks(fam, values) -> set:
    """Points spread over P's bulk (location + multiples of the scale, mapped through a transformation):
    quadrature split there converges fast wherever the mass sits."""
    if fam.affine is not None:
        loc, scale, _ = fam.affine(*values)
        return {loc + k * scale for k in _STEPS}
    if fam.transformation is not None:
        base, base_values, g = fam.transformation(*values)
        return {g(point) for point in _landmarks(base, base_values)}
    return set()


def _kinks(x, *exprs):
    """Points where |x - c| makes the integrand non-smooth."""
    out = set()
    for e in exprs:
        for a in e.atoms(sp.Abs):
            out |= {r for r in sp.solve(a.args[0], x) if r.is_real}
    return out


_GRADED = [0] + [mpmath.mpf(2) ** -k for k in range(40, 0, -4)] + [1]


def _piece(g, a, b, method, graded=False):
    """Integrate g over (a, b), substituting u**4 near finite ends so that endpoint singularities are smooth;
    ``graded`` substitutes u**16 and splits each end's stretch at 2^-40 .. 2^-4 of its length as well, where
    Gauss-Legendre otherwise stops short of full precision on x**(c - 1) log(x) at an end (c < 1 included)."""
    quad = lambda h, interval: mpmath.quad(h, interval, method=method)  # noqa: E731
    if mpmath.isinf(a) and mpmath.isinf(b):
        return quad(g, [-mpmath.inf, 0, mpmath.inf])
    if mpmath.isinf(b):
        return quad(lambda u: 4 * u**3 * g(a + u**4), [0, 1]) + quad(g, [a + 1, mpmath.inf])
    if mpmath.isinf(a):
        return quad(lambda u: 4 * u**3 * g(b - u**4), [0, 1]) + quad(g, [-mpmath.inf, b - 1])
    k = 16 if graded else 4
    h = ((b - a) / 2) ** (mpmath.mpf(1) / k)
    stretch = [h * t for t in _GRADED] if graded else [0, h]
    return (quad(lambda u: k * u**(k - 1) * g(a + u**k), stretch)
            + quad(lambda u: k * u**(k - 1) * g(b - u**k), stretch))
