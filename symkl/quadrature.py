"""Numeric values of the defining integrals and sums with mpmath: the fallback where no closed form was found.

Integrals run over the support split at P's location, Q's kinks and the support ends; near a finite end the
substitution x = end +- u**4 tames integrable singularities such as x**(a - 1) under a beta or gamma density.
"""
from __future__ import annotations

import mpmath
import sympy as sp

from .support import bounds


def numeric_value(quantity: str, fp, p_values: tuple, fq, q_values: tuple, dps: int = 50):
    """E_P of the quantity's integrand at the given parameter values, at ``dps`` digits."""
    x = sp.Symbol("x", real=True)
    log_p = fp.log_density(x, *p_values)
    log_q = fq.log_density(x, *q_values) if fq else log_p
    integrand = {"kl": log_p - log_q, "cross_entropy": -log_q, "entropy": -log_p}[quantity]
    with mpmath.workdps(dps + 15):
        weight = sp.lambdify(x, sp.exp(log_p), "mpmath")
        f = sp.lambdify(x, integrand, "mpmath")
        lo, hi = (mpmath.mpf(sp.Float(v, dps + 15)) if v.is_finite else (mpmath.inf if v > 0 else -mpmath.inf)
                  for v in bounds(fp.support(*p_values)))
        cuts = sorted({mpmath.mpf(sp.Float(c, dps + 15)) for c in _kinks(x, integrand, log_p)} - {lo, hi})
        points = [lo] + [c for c in cuts if lo < c < hi] + [hi]
        total = mpmath.fsum(_piece(lambda t: _product(weight, f, t), a, b) for a, b in zip(points, points[1:]))
    return +total


def _product(weight, f, t):
    """p(t) * f(t), with 0 where t has rounded onto a support end (the node's weight there is negligible)."""
    try:
        w = weight(t)
        v = w * f(t) if w != 0 else w
    except (ZeroDivisionError, ValueError):
        return mpmath.mpf(0)
    return v if mpmath.isfinite(v) else mpmath.mpf(0)


def _kinks(x, *exprs):
    """Points where |x - c| or a location parameter makes the integrand non-smooth."""
    out = set()
    for e in exprs:
        for a in e.atoms(sp.Abs):
            out |= {r for r in sp.solve(a.args[0], x) if r.is_real}
    return out


def _piece(g, a, b):
    """Integrate g over (a, b), substituting u**4 near finite ends so that endpoint singularities are smooth."""
    if mpmath.isinf(a) and mpmath.isinf(b):
        return mpmath.quad(g, [-mpmath.inf, 0, mpmath.inf])
    if mpmath.isinf(b):
        return mpmath.quad(lambda u: 4 * u**3 * g(a + u**4), [0, 1]) + mpmath.quad(g, [a + 1, mpmath.inf])
    if mpmath.isinf(a):
        return mpmath.quad(lambda u: 4 * u**3 * g(b - u**4), [0, 1]) + mpmath.quad(g, [-mpmath.inf, b - 1])
    m = (a + b) / 2
    h = (m - a) ** mpmath.mpf(0.25)
    return (mpmath.quad(lambda u: 4 * u**3 * g(a + u**4), [0, h])
            + mpmath.quad(lambda u: 4 * u**3 * g(b - u**4), [0, h]))
