"""Numeric functions for training losses: torch or jax, differentiable, from the form chosen for numpy.

The numpy function switches forms row by row with boolean indexing; autodiff frameworks need the same switches
as ``where`` over whole arrays, with the unused branch fed harmless inputs (a nan there would still poison the
gradient). Probabilities exactly 0 or 1 (0 log 0) are handled by the numpy backend only.
"""
from __future__ import annotations

import functools
import math

import sympy as sp
from sympy.printing.lambdarepr import LambdaPrinter

from . import numeric


def array_function(numpy_fn, symbols: tuple, backend: str):
    """The torch or jax version of a ``numeric.numpy_function`` result (same forms, Stirling and near switches)."""
    xp, lgamma, digamma, polygamma, erfcx, bessel = _namespace(backend)
    helpers = {**_helpers(xp, lgamma, digamma, polygamma), "erfcx": erfcx,
               "softplus": lambda t: xp.logaddexp(t * 0.0, t),
               "besseli": lambda nu, x: bessel[f"i{nu}"](x), "besselie": lambda nu, x: bessel[f"i{nu}e"](x),
               "logbesseli0": _log_i0(xp, bessel["i0e"])}

    def compile_(expr):
        return sp.lambdify(symbols, _vectorized(expr), modules=[helpers, dict(vars(xp))],
                           printer=LambdaPrinter({"allow_unknown_functions": True, "strict": False,
                                                  "fully_qualified_modules": False}))
    if numpy_fn.expr.has(sp.Sum):
        raise ValueError(f"the {backend} backend cannot sum this form's series over k: use numpy")
    if not _supported(numpy_fn.expr):
        raise ValueError(f"the {backend} backend has I_nu only for nu = 0 and 1; this form needs more: use numpy")
    main = compile_(numpy_fn.expr)
    large = numpy_fn.large and _supported(numpy_fn.large) and (
        compile_(numpy_fn.large), numeric._large_gamma_arguments(numpy_fn.expr, symbols))
    # a von Mises' series about P = Q holds I_nu up to nu = 11: without it, the closed form there as well
    near = numpy_fn.near and _supported(numpy_fn.near[0]) and (
        compile_(numpy_fn.near[0]), numeric._near(symbols, numpy_fn.near[1], numpy_fn.domains))

    def evaluate(*args):
        args = xp.broadcast_arrays(*[xp.asarray(a) for a in args]) if backend == "jax" else \
            xp.broadcast_tensors(*[xp.as_tensor(a, dtype=xp.float64) for a in args])
        out = main(*args)
        for switch in (large, near):
            if switch:
                fn, mask = switch
                out = xp.where(mask(args, out), fn(*args), out)
        return out
    return evaluate


_where, _and, _or, _not = (sp.Function(name) for name in ("where", "logical_and", "logical_or", "logical_not"))


def _vectorized(expr: sp.Expr) -> sp.Expr:
    """Piecewise as nested where, And/Or/Not as elementwise calls: Python's if/and do not act on whole arrays."""
    def piecewise(e):
        out = e.args[-1][0] if e.args[-1][1] == sp.true else sp.nan
        for value, cond in reversed(e.args[:-1] if e.args[-1][1] == sp.true else e.args):
            out = _where(cond, value, out)
        return out
    expr = expr.replace(lambda e: isinstance(e, sp.Piecewise), piecewise)
    for kind, fn in ((sp.And, _and), (sp.Or, _or)):
        expr = expr.replace(lambda e: isinstance(e, kind),
                            lambda e, fn=fn: functools.reduce(lambda a, b: fn(a, b), e.args))
    return expr.replace(lambda e: isinstance(e, sp.Not), lambda e: _not(e.args[0]))


def _namespace(backend: str):
    if backend == "torch":
        import torch
        return (torch, torch.lgamma, torch.digamma, torch.special.polygamma, torch.special.erfcx,
                {name: getattr(torch.special, name) for name in ("i0", "i1", "i0e", "i1e")})
    if backend == "jax":
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        from jax.scipy import special
        return (jnp, special.gammaln, special.digamma, special.polygamma,
                lambda x: jnp.exp(x * x) * special.erfc(x),
                {name: getattr(special, name) for name in ("i0", "i1", "i0e", "i1e")})
    raise ValueError(f"unknown backend {backend!r}: use numpy, mpmath, torch or jax")


def _supported(expr: sp.Expr) -> bool:
    """Whether the frameworks' Bessel functions (orders 0 and 1) cover the form's."""
    return all(e.args[0] in (0, 1) for e in expr.atoms(sp.besseli, numeric.besselie))


def _log_i0(xp, i0e):
    """numeric.logbesseli0_numpy with ``where``: the series below the switch, x + log(i0e(x)) above."""
    def log_i0(x):
        small = x < numeric.LOG_I0_SERIES_BELOW
        q = xp.where(small, x, 0.0) ** 2 / 4
        acc = 1.0
        for j in range(numeric.LOG_I0_TERMS, 1, -1):
            acc = 1.0 + q * acc / (j * j)
        big = xp.where(small, numeric.LOG_I0_SERIES_BELOW, x)
        return xp.where(small, xp.log1p(q * acc), big + xp.log(i0e(big)))
    return log_i0


_TRIGAMMA_SERIES = [float(sp.bernoulli(2 * k)) for k in range(1, 9)]  # B_2k, k = 1..8


def _helpers(xp, lgamma, digamma, polygamma) -> dict:
    """phi, the Stirling remainders and expm1x with ``where`` in place of boolean indexing; the gamma family
    from the framework (math.lgamma would turn a traced array into a float)."""
    def phi(t, u):
        small = abs(t) < 0.1
        ts = xp.where(small, t, 0.0)
        acc = 1.0 / 17
        for k in range(16, 1, -1):
            acc = 1.0 / k - ts * acc
        return xp.where(small, ts * ts * acc, t - xp.log(xp.where(small, 1.0, u)))

    def remainder(direct, series, odd):
        def f(a):
            big = a >= numeric._ASYMPTOTIC_FROM
            small_a, big_a = xp.where(big, 1.0, a), xp.where(big, a, numeric._ASYMPTOTIC_FROM)
            z = 1.0 / big_a**2
            acc = series[-1]
            for c in reversed(series[:-1]):
                acc = acc * z + c
            return xp.where(big, acc / big_a if odd else -acc * z, direct(small_a))
        return f

    def trigamma(x):
        """psi_1(x) = psi_1(x + 8) + sum_k 1/(x + k)^2 below 8, Stirling's series 1/y + 1/(2y^2) + sum B_2k/y^(2k+1)
        from 8 on: torch's own keeps 9 digits (0.64493406709 at x = 2), and the diagonal series use it."""
        small = x < 8.0
        y = xp.where(small, x + 8.0, x)
        z = 1.0 / (y * y)
        acc = _TRIGAMMA_SERIES[-1]
        for c in reversed(_TRIGAMMA_SERIES[:-1]):
            acc = acc * z + c
        shift = sum(1.0 / (xp.where(small, x, 1.0) + k) ** 2 for k in range(8))
        return 1.0 / y + 0.5 * z + acc * z / y + xp.where(small, shift, 0.0)

    def expm1x(a):
        small = abs(a) < 0.1
        s = xp.where(small, a, 0.0)
        acc = 1.0
        for k in range(17, 2, -1):
            acc = 1.0 + s * acc / k
        return xp.where(small, s * s * acc / 2, xp.expm1(xp.where(small, 1.0, a)) - xp.where(small, 1.0, a))

    return {"phi": phi, "delta": lambda q, p: q - p, "expm1x": expm1x, "loggamma": lgamma, "lgamma": lgamma,
            "pi": math.pi, "polygamma": lambda n, x: digamma(x) if n == 0 else trigamma(x) if n == 1 else polygamma(int(n), x),
            "where": xp.where, "logical_and": xp.logical_and, "logical_or": xp.logical_or,
            "logical_not": xp.logical_not, "oo": math.inf, "nan": math.nan,
            "lgamma_rem": remainder(lambda a: lgamma(a) - (a - 0.5) * xp.log(a) + a - 0.5 * math.log(2 * math.pi),
                                    numeric._LGAMMA_SERIES, True),
            "digamma_rem": remainder(lambda a: digamma(a) - xp.log(a) + 0.5 / a, numeric._DIGAMMA_SERIES, False)}
