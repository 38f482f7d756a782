"""Integrands evaluated with python-flint's arb (C ball arithmetic) inside mpmath's quadrature.

The defining integrals of `check` spend most of their time evaluating p(x) and log p(x) - log q(x) at the
quadrature nodes, and mpmath's exp and log cost about 8 microseconds each at 70 digits; arb's cost 1. The
quadrature itself (nodes, weights, sums, error estimates) stays mpmath's: only the integrand changes how it is
computed, to the same working precision.
"""
from __future__ import annotations

import flint
import mpmath
import sympy as sp

EXP_LIMIT = 10**6  # exp beyond it is oo, below its negative 0 (see quadrature._bounded_exp), here as there


def _exp(a):
    if a > EXP_LIMIT:
        return flint.arb.pos_inf()
    if a < -EXP_LIMIT:
        return flint.arb(0)
    return a.exp()


FUNCTIONS = {sp.exp: _exp, sp.log: flint.arb.log, sp.Abs: abs, sp.cos: flint.arb.cos, sp.sin: flint.arb.sin,
             sp.cosh: flint.arb.cosh, sp.sinh: flint.arb.sinh, sp.tanh: flint.arb.tanh, sp.atan: flint.arb.atan,
             sp.loggamma: flint.arb.lgamma, sp.erf: flint.arb.erf, sp.erfc: flint.arb.erfc}
NAMESPACE = {f.__name__: g for f, g in FUNCTIONS.items()}


def weighted(x: sp.Symbol, weight: sp.Expr, f: sp.Expr, dps: int):
    """t -> weight(t) * f(t) as an mpf, computed in arb at ``dps`` digits whatever mpmath's precision (the
    quadrature's nodes and sums may run at fewer), their common subexpressions once; 0 where the weight is 0 or
    the product is not finite (a node rounded onto a support end: see quadrature._product). None when an
    expression holds a function arb is not given here (a Piecewise, a Bessel function of x): the caller evaluates
    those with mpmath."""
    exprs = [weight, f]
    if any(not isinstance(g, tuple(FUNCTIONS)) for e in exprs for g in e.atoms(sp.Function)) or \
            any(e.has(sp.Piecewise, sp.zoo, sp.nan, sp.oo, -sp.oo) for e in exprs):
        return None
    # every constant an arb, pi as well: mpmath's pi times an arb is an mpf, whose .exp is its exponent
    constants = sorted({c for e in exprs for c in e.atoms(sp.Number, sp.NumberSymbol) if not c.is_Integer},
                       key=sp.default_sort_key)
    names = sp.symbols(f"c0:{len(constants)}")
    body = sp.lambdify([x, *names], [e.xreplace(dict(zip(constants, names))) for e in exprs],
                       [NAMESPACE, "mpmath"], cse=True)
    prec = mpmath.libmp.dps_to_prec(dps)
    flint.ctx.prec = prec
    with mpmath.workdps(dps):  # not the caller's precision
        values = [flint.arb(mpmath.mpf(sp.Float(c, dps)._mpf_)) for c in constants]

    def evaluate(t):
        flint.ctx.prec = prec
        w, v = body(flint.arb(t), *values)
        if w == 0:
            return mpmath.mpf(0)
        v = flint.arb(w * v)  # an arb, also where f is a constant int
        return mpmath.mpf(v.mid()._mpf_) if v.is_finite() else mpmath.mpf(0)
    return evaluate
