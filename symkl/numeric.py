"""Numeric functions of results: vectorized float64 (numpy, scipy.special) or mpmath at any precision.

A formula right on paper can lose every digit in floats where P is close to Q: log(a/b) and the terms it
cancels against are both ~1 while KL is ~1e-20. Each c*log(u) with u = 1 on the diagonal is rewritten as
c*(t - phi(t, u)), t = u - 1, phi(t, u) = t - log(u) >= 0, and the linear parts are cancelled symbolically; the
candidate forms are then measured against mpmath at sampled points (general and near-diagonal) and the most
accurate one is kept, as Herbie does.
"""
from __future__ import annotations

import inspect
import itertools
import math
import os
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache, partial

import mpmath
import numpy as np
import sympy as sp
from scipy import special
from sympy.codegen import cfunctions
from sympy.printing.numpy import SciPyPrinter
from sympy.printing.precedence import PRECEDENCE

from . import serialize
from .budget import attempt



class phi(sp.Function):
    """phi(t, u) = t - log(u) with u = 1 + t: the non-negative core of a log-ratio term that vanishes at u = 1.

    Both are passed as written: t as a factored difference (exact near u = 1, where log1p(t) and a series keep
    every digit) and u as the ratio itself (exact far from 1, where 1 + t would round, e.g. u = 1e-12)."""

    nargs = 2

    def _eval_rewrite_as_log(self, t, u, **kwargs):
        return t - sp.log(u)

    def fdiff(self, argindex=1):
        return sp.S.One if argindex == 1 else -1 / self.args[1]


class expm1x(sp.Function):
    """expm1x(a) = exp(a) - 1 - a: the well-conditioned core of exponential terms near a = 0."""

    def _eval_rewrite_as_exp(self, a, **kwargs):
        return sp.exp(a) - 1 - a

    def fdiff(self, argindex=1):
        return sp.exp(self.args[0]) - 1


class erfcx(sp.Function):
    """erfcx(x) = exp(x**2) erfc(x), the scaled complementary error function: exp(a) (1 - erf(b)) with b large
    is exp(a - b**2) erfcx(b), where floats computed 1 - erf(b) as 0 (halfnormal||gumbel, off by 100%)."""

    def _eval_rewrite_as_erfc(self, x, **kwargs):
        return sp.exp(x**2) * sp.erfc(x)

    def fdiff(self, argindex=1):
        return 2 * self.args[0] * self - 2 / sp.sqrt(sp.pi)


class softplus(sp.Function):
    """softplus(t) = log(1 + exp(t)), as numpy's logaddexp(0, t): logistic||laplace holds log1p(exp(t)) with t =
    23000 at small scales, where exp(t) overflows and the value is t."""

    def _eval_rewrite_as_log(self, t, **kwargs):
        return sp.log(1 + sp.exp(t))

    def fdiff(self, argindex=1):
        return 1 / (1 + sp.exp(-self.args[0]))


class besselie(sp.Function):
    """besselie(nu, x) = besseli(nu, x) exp(-x), x > 0, the scaled modified Bessel function: a von Mises' log
    I_0(kappa) at kappa = 1e5 is kappa + log(besselie(0, kappa)), where I_0 alone overflows."""

    def _eval_rewrite_as_besseli(self, nu, x, **kwargs):
        return sp.besseli(nu, x) * sp.exp(-x)


class logbesseli0(sp.Function):
    """log I_0(x), x >= 0: log1p of I_0(x) - 1 by its series below 2, x + log(besselie(0, x)) above. A von Mises'
    log(I_0(kappa_q)/I_0(kappa_p)) at kappa = 1e-8 is 1e-17 away from 0: the ratio rounds to 1 and keeps no digit."""

    def _eval_rewrite_as_besseli(self, x, **kwargs):
        return sp.log(sp.besseli(0, x))


class lgamma_rem(sp.Function):
    """loggamma(a) - ((a - 1/2) log(a) - a + log(2 pi)/2): Stirling's remainder, ~1/(12a). Written this way,
    the a log(a) parts of loggamma and digamma cancel symbolically where floats would lose 9 digits at a = 1e8."""

    def _eval_rewrite_as_loggamma(self, a, **kwargs):
        return sp.loggamma(a) - (a - sp.S.Half) * sp.log(a) + a - sp.log(2 * sp.pi) / 2


class digamma_rem(sp.Function):
    """digamma(a) - (log(a) - 1/(2a)): the remainder of digamma's expansion, ~ -1/(12 a**2)."""

    def _eval_rewrite_as_polygamma(self, a, **kwargs):
        return sp.polygamma(0, a) - sp.log(a) + 1 / (2 * a)


class gammainc_lower(sp.Function):
    """lowergamma(a, x)/gamma(a), regularized: in [0, 1] where lowergamma and gamma overflow separately."""

    def _eval_rewrite_as_lowergamma(self, a, x, **kwargs):
        return sp.lowergamma(a, x) / sp.gamma(a)


class gammainc_upper(sp.Function):
    """uppergamma(a, x)/gamma(a), regularized."""

    def _eval_rewrite_as_uppergamma(self, a, x, **kwargs):
        return sp.uppergamma(a, x) / sp.gamma(a)


# Stirling series coefficients B_2k / (2k (2k - 1)) and B_2k / (2k), k = 1..8.
_LGAMMA_SERIES = [float(sp.bernoulli(2 * k) / (2 * k * (2 * k - 1))) for k in range(1, 9)]
_DIGAMMA_SERIES = [float(sp.bernoulli(2 * k) / (2 * k)) for k in range(1, 9)]
_ASYMPTOTIC_FROM = 10.0


def _remainder(a, direct, series, odd):
    """direct(a) below _ASYMPTOTIC_FROM (no cancellation to speak of there); the asymptotic series above."""
    a = np.asarray(a, dtype=float)
    with np.errstate(all="ignore"):
        out = np.array(direct(a), dtype=float)
        big = a >= _ASYMPTOTIC_FROM
        z = 1.0 / a[big] ** 2
        acc = np.full_like(z, series[-1])
        for c in reversed(series[:-1]):
            acc = acc * z + c
        out[big] = acc / a[big] if odd else -acc * z
    return out[()] if out.ndim == 0 else out


def lgamma_rem_numpy(a):
    return _remainder(a, lambda v: special.gammaln(v) - (v - 0.5) * np.log(v) + v - 0.5 * np.log(2 * np.pi),
                      _LGAMMA_SERIES, True)


def digamma_rem_numpy(a):
    return _remainder(a, lambda v: special.psi(v) - np.log(v) + 0.5 / v, _DIGAMMA_SERIES, False)


LOG_I0_SERIES_BELOW = 2.0
LOG_I0_TERMS = 14  # sum_{j >= 1} (x^2/4)^j/(j!)^2 below x = 2: the 14th term is 1e-22 of the first


def logbesseli0_numpy(x):
    """log I_0(x): below LOG_I0_SERIES_BELOW, log1p of I_0(x) - 1 by Horner on its series; above, x + log(i0e(x))."""
    x = np.abs(np.asarray(x, dtype=float))
    with np.errstate(all="ignore"):
        out = np.array(x + np.log(special.i0e(x)), dtype=float)
    small = np.flatnonzero(x < LOG_I0_SERIES_BELOW)
    if small.size:
        q = x.reshape(-1)[small] ** 2 / 4
        acc = np.full_like(q, 1.0)
        for j in range(LOG_I0_TERMS, 1, -1):
            acc = 1.0 + q * acc / (j * j)
        out.reshape(-1)[small] = np.log1p(q * acc)
    return out[()] if out.ndim == 0 else out


def expm1x_numpy(a):
    """exp(a) - 1 - a in float64: expm1 where |a| >= 0.1, else its series a**2*(1/2 + a/6 + ...) by Horner."""
    a = np.asarray(a, dtype=float)
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.array(np.expm1(a) - a, dtype=float)
    small = np.flatnonzero(np.abs(a) < 0.1)
    if small.size:
        xs = a.reshape(-1)[small]
        acc = np.full_like(xs, 1.0)
        for k in range(17, 2, -1):
            acc = 1.0 + xs * acc / k
        out.reshape(-1)[small] = xs * xs * acc / 2
    return out[()] if out.ndim == 0 else out


def phi_numpy(t, u):
    """t - log(u), u = 1 + t, in float64: from u where |t| >= 0.1 (a cancellation of at most 20 ulp there, and
    u itself is exact where 1 + t would round); where |t| < 0.1, through s = t/(2 + t), log(u) = 2 atanh(s):
    t**2/(2 + t) - 2 s**3 (1/3 + s**2/5 + ... + s**12/15), no cancellation and half the terms of the t series."""
    t, u = np.broadcast_arrays(np.asarray(t, dtype=float), np.asarray(u, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log(u, out=np.empty(t.shape))  # in place: a fresh temporary per call costs more than the log
        np.subtract(t, out, out=out)
    small = np.flatnonzero(np.abs(t) < 0.1)
    if small.size:
        ts = t.reshape(-1)[small]
        two_t = 2.0 + ts
        s = ts / two_t
        w = s * s
        acc = np.full_like(ts, 1.0 / 15)
        for k in range(13, 1, -2):
            acc *= w
            acc += 1.0 / k
        out.reshape(-1)[small] = ts * ts / two_t - 2.0 * s * w * acc
    return out[()] if out.ndim == 0 else out


def phi_mpmath(t, u):
    return t - mpmath.log(u)


def _polygamma(n, x):
    return special.psi(x) if np.all(np.asarray(n) == 0) else special.polygamma(n, x)


HYPER_MAXPREC = 1000  # bits: past it mpmath gives up on an element (nan) instead of raising its precision for minutes


def _by_mpmath(fn, nested: bool):
    """A special function numpy and scipy lack (Meijer G, the generalized hypergeometric) as mpmath's, element by
    element at 20 digits: right to float64, not fast. Its parameter lists (pairs of lists for Meijer G) may hold
    arrays too; nan where mpmath finds no value within HYPER_MAXPREC. Values are remembered by their arguments:
    choosing a numeric form evaluates the same elements once per candidate form."""
    def evaluate(first, second, z):
        groups = [list(g) for g in (tuple(first) + tuple(second) if nested else (first, second))]
        flat = np.broadcast_arrays(*[np.asarray(v, dtype=float) for g in groups for v in g], np.asarray(z, dtype=float))
        sizes = tuple(len(g) for g in groups)
        return np.vectorize(lambda *values: one(sizes, *values), otypes=[float])(*flat)

    @lru_cache(maxsize=1 << 16)
    def one(sizes, *values):
        it = iter(values)
        rebuilt = [[next(it) for _ in range(n)] for n in sizes]
        if nested:
            half = len(sizes) // 2
            args = (rebuilt[:half], rebuilt[half:], next(it))
        else:
            args = (*rebuilt, next(it))
        try:
            with mpmath.workdps(20):
                return float(fn(*args, maxprec=HYPER_MAXPREC))
        except (ValueError, TypeError, ZeroDivisionError, mpmath.libmp.NoConvergence):
            return np.nan
    return evaluate


def _expint(nu, z):
    """The generalized exponential integral E_nu(z): scipy's expn for a whole order (E_1 of an inversegaussian
    against a weibull), mpmath's element by element for another."""
    nu, z = np.broadcast_arrays(np.asarray(nu, dtype=float), np.asarray(z, dtype=float))
    whole = nu == np.round(nu)
    if whole.all():
        return special.expn(nu.astype(int), z)
    return np.vectorize(lambda n, x: float(mpmath.expint(n, x)), otypes=[float])(nu, z)


NUMPY_MODULES = [{"phi": phi_numpy, "expint": _expint, "erfcx": special.erfcx, "besselie": special.ive,
                  "logbesseli0": logbesseli0_numpy,
                  "softplus": lambda t: np.logaddexp(0.0, t),
                  "delta": np.subtract, "expm1x": expm1x_numpy, "lgamma_rem": lgamma_rem_numpy,
                  "meijerg": _by_mpmath(mpmath.meijerg, nested=True), "hyper": _by_mpmath(mpmath.hyper, nested=False),
                  "digamma_rem": digamma_rem_numpy, "loggamma": special.gammaln, "polygamma": _polygamma,
                  "erf": special.erf, "gammainc_lower": special.gammainc, "gammainc_upper": special.gammaincc,
                  "lowergamma": lambda a, x: special.gammainc(a, x) * special.gamma(a),
                  "uppergamma": lambda a, x: special.gammaincc(a, x) * special.gamma(a)}, "scipy", "numpy"]
MPMATH_MODULES = [{"phi": phi_mpmath, "delta": lambda q, p: q - p, "expm1x": lambda a: mpmath.expm1(a) - a,
                   "erfcx": lambda x: mpmath.exp(x**2) * mpmath.erfc(x),
                   "besselie": lambda nu, x: mpmath.besseli(nu, x) * mpmath.exp(-x),
                   "logbesseli0": lambda x: mpmath.log(mpmath.besseli(0, x)),
                   "softplus": lambda t: mpmath.log1p(mpmath.exp(t)),
                   "lgamma_rem": lambda a: mpmath.loggamma(a) - (a - 0.5) * mpmath.log(a) + a - mpmath.log(2 * mpmath.pi) / 2,
                   "digamma_rem": lambda a: mpmath.digamma(a) - mpmath.log(a) + 1 / (2 * a),
                   "betainc_regularized": lambda a, b, x1, x2: mpmath.betainc(a, b, x1, x2, regularized=True),
                   "gammainc_lower": lambda a, x: mpmath.gammainc(a, 0, x, regularized=True),
                   "gammainc_upper": lambda a, x: mpmath.gammainc(a, x, mpmath.inf, regularized=True)}]

REACH_BITS = 1 << 14  # arguments up to 2**REACH_BITS in size (10**4932) cost a special function milliseconds
# Functions whose cost does not grow with their argument's size (a log needs log 2 to as many bits as the size's
# exponent has, not as the size has).
ANY_SIZE = frozenset({"log", "ln", "log1p", "log10", "sqrt", "cbrt", "root", "fabs", "sign", "re", "im", "conj",
                      "floor", "ceil", "nint", "frac", "mpf", "mpc", "mag", "isinf", "isnan", "isint", "isfinite",
                      "loggamma", "digamma", "psi", "polygamma", "power", "fsum", "fprod", "fdot", "inf", "ldexp",
                      "frexp", "fadd", "fsub", "fmul", "fdiv", "fneg", "hypot", "atan", "atan2", "acot"})


def _within_reach(name, fn):
    """fn raising ValueError for an argument beyond 2**REACH_BITS: E_1 of exp(1e8) (a gumbel at scale 6e-8)
    had mpmath compute log(2) to 1e8 bits, for hours, for a value beyond every float anyway."""
    def guarded(*args, **kwargs):
        for a in args:
            if isinstance(a, (mpmath.mpf, mpmath.mpc)) and mpmath.isfinite(a) and mpmath.mag(a) > REACH_BITS:
                raise ValueError(f"{name} of a number beyond 2**{REACH_BITS}: out of reach")
        return fn(*args, **kwargs)
    return guarded


MPMATH_MODULES.append({name: _within_reach(name, fn) for name, fn in vars(mpmath).items()  # not constants (pi)
                       if not name.startswith("_") and name not in ANY_SIZE and inspect.isroutine(fn)})
MPMATH_MODULES.append("mpmath")


def stable_forms(expr: sp.Expr, symbols: tuple, identities: dict | None = None) -> list[sp.Expr]:
    """Candidate forms of expr (atanh as logs where its argument is near +-1): as derived; with logs of P's and
    Q's parameters paired into log-ratios; the same after loggamma and digamma are split into Stirling's leading
    terms and remainders (their a*log(a) parts cancel). In each, the log terms that vanish on the diagonal are
    written through phi (``identities``, such as p1 + ... + pK = 1, cancel what the linear parts leave). Each with
    log1p and expm1 (log(1 - p) at p = 1e-12 in an entropy) and its rational parts over one denominator, where it
    has such terms; with erf as 1 - erfc, and exp(a) erfc(b) scaled (_erfc_forms); with differences of
    exponentials through expm1 (_exp_differences)."""
    if isinstance(expr, sp.Piecewise):
        branches = [stable_forms(_pinned(e, c), symbols, identities) for e, c in expr.args]
        return [sp.Piecewise(*[(forms[min(i, len(forms) - 1)], c) for forms, (_, c) in zip(branches, expr.args)])
                for i in range(max(map(len, branches)))]
    # atanh(u) for |u| > 1/2 as log(1 + u)/2 - log(1 - u)/2: at lam = 1e-12, atanh(2 lam - 1) kept 4 digits of lam
    # (2 lam - 1 rounded), the logs of 2 lam and 2 - 2 lam every one; below 1/2, where 2 lam - 1 is exact and the
    # logs cancel, atanh itself. In every candidate: no single form is accurate at both ends
    expr = expr.replace(lambda e: isinstance(e, sp.atanh), lambda e: sp.Piecewise(
        (e, sp.Abs(e.args[0]) <= sp.S.Half), ((sp.log(1 + e.args[0]) - sp.log(1 - e.args[0])) / 2, True)))
    diagonal = _diagonal(symbols)
    bases = [expr]
    if diagonal:
        bases.append(_pair_logs(expr, diagonal))
    if expr.has(sp.Sum):
        centered = _centered_sums(expr)
        bases += [centered] + ([_pair_logs(centered, diagonal)] if diagonal else [])
    if expr.has(sp.loggamma, sp.polygamma):
        bases.append(_pair_logs(_stirling(expr), diagonal))
        dominated = _dominant_logs(_stirling(expr), _gamma_arguments_symbols(expr))
        if dominated is not None:
            bases.append(dominated)
    out = [expr]
    for base in bases:
        out += [form for form in _phi_forms(base, diagonal, identities) if form not in out]
    out.append(sp.expand_log(expr, force=True))
    if expr.has(sp.erf):
        out += _erfc_forms(expr)
    if expr.has(sp.exp):
        out.append(_exp_differences(expr))
    if expr.has(sp.besseli):
        out += [_scaled_bessel(form) for form in out] + [_scaled_bessel(_log_bessel(form)) for form in out
                                                         if _log_bessel(form) != sp.expand_log(form, force=True)]
    if any(e.args[0].has(sp.pi) for e in expr.atoms(sp.sin)):
        out += [_sin_pi_nearer_zero(form) for form in out]
    # not a form where forcing logs apart made a real value complex: log(-1/(p - 1)) as I*pi - log(p - 1)
    out = [form for form in out if expr.has(sp.I) or not form.has(sp.I)]
    # log(1 + u) as log1p(u) is never less accurate, so every candidate gets it (a Piecewise pairs its branches'
    # candidates by rank: a variant only at the end of one branch's list would never meet the other's)
    out = list(dict.fromkeys(_softplus(_rational_parts(with_log1p(f))) if _near_one(f) else f for f in out))
    return out + ([_regularized(out[0])] if expr.has(sp.lowergamma, sp.uppergamma) else [])


def erf_as_erfc(expr: sp.Expr) -> sp.Expr:
    """erf(b) as 1 - erfc(b), expanded: exp(a) - exp(a) erf(b) becomes exp(a) erfc(b) exactly, with nothing left
    to cancel (expr itself where it has no erf)."""
    return sp.expand(expr.rewrite(sp.erfc)) if expr.has(sp.erf) else expr


def _erfc_forms(expr: sp.Expr) -> list[sp.Expr]:
    """expr with erf as 1 - erfc (erf_as_erfc); then each exp(a) erfc(b) as exp(a - b**2) erfcx(b), whose
    exponent cancels symbolically where exp(a) alone overflows."""
    expanded = erf_as_erfc(expr)

    def scaled(term):
        factors = sp.Mul.make_args(term)
        tails = [f for f in factors if isinstance(f, sp.erfc)]
        if len(tails) != 1:
            return term
        exps = [f for f in factors if isinstance(f, sp.exp)]
        b = tails[0].args[0]
        rest = sp.Mul(*[f for f in factors if f is not tails[0] and f not in exps])
        return rest * sp.exp(sp.expand(sp.Add(*[f.args[0] for f in exps]) - b**2)) * erfcx(b)
    return [expanded, sp.Add(*[scaled(t) for t in sp.Add.make_args(expanded)])]


def _centered_sums(expr: sp.Expr) -> sp.Expr:
    """Each series E_P[h] = sum_k w(k) h(k) (w P's pmf, summing to 1) as h(a) + sum_{k > a} w(k) (h(k) - h(a)), a
    its lower end, with logs of gamma functions as loggamma: h(a) cancels the closed form's constants
    symbolically. Where P is nearly all at a (a binomial at p = 1e-12), w(a) h(a) in floats kept h(a) only to
    the rounding of w(a) = 1 - n p, and the sums' difference of 1e-12 lost every digit. A wrong reading of w is
    caught where the candidates are measured."""
    def centered(s):
        k, a, b = s.limits[0]
        logs, rest = _log_parts(s.function)
        h = sp.Mul(*[f for f in sp.Mul.make_args(rest) if f.has(k)])  # the factors free of k are w's
        if not logs.has(k) or h == 1:
            return s
        start = h.subs(k, a)
        return start + sp.Sum(sp.exp(logs) * rest / h * (h - start), (k, a + 1, b))
    return _as_loggamma(expr).replace(lambda e: isinstance(e, sp.Sum) and len(e.limits) == 1, centered)


def _as_loggamma(expr: sp.Expr) -> sp.Expr:
    """Logs of products of gamma functions as sums of loggamma, which cancel against the series' own."""
    return _log_gamma_as_loggamma(expr.replace(lambda e: isinstance(e, sp.log) and e.args[0].has(sp.gamma),
                                               lambda e: sp.expand_log(e, force=True)))


def _log_gamma_as_loggamma(expr: sp.Expr) -> sp.Expr:
    """log(gamma(u)) as loggamma(u): gamma(u) alone overflows at u = 172."""
    return expr.replace(lambda e: isinstance(e, sp.log) and isinstance(e.args[0], sp.gamma),
                        lambda e: sp.loggamma(e.args[0].args[0]))


def _exp_differences(expr: sp.Expr) -> sp.Expr:
    """Each pair of terms c exp(a) - c exp(b) as c exp(b) expm1(a - b): uniform||gumbel at scale_q = 5e6 is two
    terms of 5e6 that cancel to 1 (10 digits lost), where expm1 of (high - low)/scale keeps them all."""
    def split(term):  # (c, a) for a term c*exp(a), else (term, None)
        term = sp.powsimp(sp.factor_terms(term), combine="exp") if term.has(sp.exp) else term
        exps = [f for f in sp.Mul.make_args(term) if isinstance(f, sp.exp)]
        if len(exps) != 1:
            return term, None
        return sp.Mul(*[f for f in sp.Mul.make_args(term) if f is not exps[0]]), exps[0].args[0]
    terms, out = [split(t) for t in sp.Add.make_args(expr)], []
    while terms:
        c, a = terms.pop(0)
        partner = next((i for i, (d, b) in enumerate(terms) if a is not None and b is not None
                        and sp.expand(c + d) == 0), None)
        if partner is None:
            out.append(c if a is None else c * sp.exp(a))
        else:
            b = terms.pop(partner)[1]
            out.append(c * sp.exp(b) * cfunctions.expm1(sp.expand(a - b)))
    return sp.Add(*out)


def _sin_pi_nearer_zero(expr: sp.Expr) -> sp.Expr:
    """Each sin(pi u) as sin(pi min(u, 1 - u)), each over one denominator: the same value, and where u is next
    to 1 (logistic||gumbel as scale_q -> scale_p, where the KL has a pole) the argument keeps its digits, where
    pi u rounded and sin lost them."""
    def nearer(e):
        u = sp.together(e.args[0] / sp.pi)
        return sp.sin(sp.pi * sp.Min(u, sp.together(1 - u))) if not u.is_number else e
    return expr.replace(lambda e: isinstance(e, sp.sin) and e.args[0].has(sp.pi), nearer)


def _scaled_bessel(expr: sp.Expr) -> sp.Expr:
    """Each besseli(nu, x) as exp(x) besselie(nu, x), the logs split: log I_0(kappa) becomes kappa + log
    besselie(0, kappa), and in a ratio I_1/I_0 the exponentials cancel symbolically where floats overflow."""
    if not expr.has(sp.besseli):
        return expr
    scaled = expr.replace(lambda e: isinstance(e, sp.besseli), lambda e: sp.exp(e.args[1]) * besselie(*e.args))

    def split(log):  # log(exp(x) besselie(...)^k rest) = x + k log(besselie(...)) + log(rest): both positive
        positive = [f for f in sp.Mul.make_args(log.args[0]) if isinstance(f, sp.exp) or isinstance(
            f.as_base_exp()[0], besselie)]
        rest = sp.Mul(*[f for f in sp.Mul.make_args(log.args[0]) if f not in positive])
        return sp.Add(*[sp.expand_log(sp.log(f), force=True) for f in positive]) + (sp.log(rest) if rest != 1 else 0)
    return scaled.replace(lambda e: isinstance(e, sp.log) and e.has(besselie), split)


def _log_bessel(expr: sp.Expr) -> sp.Expr:
    """expr with its logs split and each log(I_0(x)) as logbesseli0(x), exact for x near 0 and x large alike."""
    return sp.expand_log(expr, force=True).replace(
        lambda e: isinstance(e, sp.log) and isinstance(e.args[0], sp.besseli) and e.args[0].args[0] == 0,
        lambda e: logbesseli0(e.args[0].args[1]))


def _regularized(expr: sp.Expr) -> sp.Expr:
    """Incomplete gamma functions regularized, and each product of powers, exponentials and gamma functions in
    log space: gamma(a), lowergamma(a, x) and x**a overflow at a = 1e7 while their ratios are moderate."""
    for incomplete, regularized in ((sp.lowergamma, gammainc_lower), (sp.uppergamma, gammainc_upper)):
        expr = expr.replace(lambda e, f=incomplete: isinstance(e, f),
                            lambda e, f=regularized: f(*e.args) * sp.gamma(e.args[0]))
    return expr.replace(lambda e: e.is_Mul and e.has(sp.gamma), lambda e: _log_space(sp.gammasimp(e)))


def _near_one(expr: sp.Expr) -> bool:
    """Whether expr takes a log of 1 plus something, or has an exponential (what with_log1p rewrites; it
    factors every term, which takes seconds, so only then)."""
    return expr.has(sp.exp) or any(isinstance(lg.args[0], sp.Add) and lg.args[0].as_coeff_Add()[0] != 0
                                   for lg in expr.atoms(sp.log))


def _rational_parts(expr: sp.Expr) -> sp.Expr:
    """Each sum free of logs and special functions over one denominator: 1 - 1/p as (p - 1)/p, exact near p = 1
    where 1/p rounds."""
    return expr.replace(lambda e: e.is_Add and not e.atoms(sp.Function), sp.together)


def _pinned(expr: sp.Expr, condition) -> sp.Expr:
    """expr with each positive integer its condition pins to one value (n_p <= 1 for binomial||bernoulli) set to
    it, and the sums that leaves finite written out: terms that only cancel at n = 1 then cancel symbolically."""
    pins = {rel.lhs: value for rel in sp.And.make_args(condition) if (value := _pin(rel)) is not None}
    if not pins:
        return expr
    return sp.expand_log(expr.xreplace(pins).replace(lambda e: isinstance(e, sp.Sum), lambda e: e.doit()),
                         force=True)


def _pin(rel):
    """The one value a positive integer n can take under n <= c, n < c or n = c; None if not one."""
    if not (isinstance(rel, (sp.LessThan, sp.StrictLessThan, sp.Eq)) and rel.lhs.is_Symbol and rel.lhs.is_integer
            and rel.lhs.is_positive and rel.rhs.is_number):
        return None
    if isinstance(rel, sp.Eq):
        return rel.rhs
    top = sp.floor(rel.rhs) if isinstance(rel, sp.LessThan) else sp.ceiling(rel.rhs) - 1
    return sp.Integer(1) if top == 1 else None


def _stirling(expr: sp.Expr) -> sp.Expr:
    """loggamma(a) and digamma(a) as Stirling's leading terms plus remainders."""
    return expr.replace(lambda e: isinstance(e, sp.loggamma),
                        lambda e: (e.args[0] - sp.S.Half) * sp.log(e.args[0]) - e.args[0] + sp.log(2 * sp.pi) / 2
                        + lgamma_rem(e.args[0])).replace(
        lambda e: isinstance(e, sp.polygamma) and e.args[0] == 0,
        lambda e: sp.log(e.args[1]) - 1 / (2 * e.args[1]) + digamma_rem(e.args[1]))


def _gamma_arguments_symbols(expr: sp.Expr) -> set:
    """The parameters inside loggamma and digamma: where they are large, Stirling's forms are the better ones."""
    return set().union(*[f.free_symbols for f in expr.atoms(sp.loggamma, sp.polygamma)])


def _dominant_logs(expr: sp.Expr, large: set) -> sp.Expr | None:
    """Each log of a sum as log(t) + log1p(rest/t), t its term of the highest power in the symbols of the gamma
    functions' arguments, then expanded: where those are large (a studentt's df of 1e7), the Stirling form's
    (df + 1)/2 log(df s**2 + ...) - df/2 log(df) cancel symbolically, not in floats (8 digits lost). None where
    no log has such a term."""
    def power(term):
        return sum((e for b, e in (f.as_base_exp() for f in sp.Mul.make_args(term)) if b in large), sp.S.Zero)

    def split(log):
        terms = sp.Add.make_args(log.args[0])
        powers = [power(t) for t in terms]
        top = max(powers)
        if not top.is_positive or powers.count(top) != 1:
            return log
        t = terms[powers.index(top)]
        if not t.is_positive:
            return log
        rest = sp.expand(sp.Add(*[u for u in terms if u is not t]) / t)
        return sp.expand_log(sp.log(t), force=True) + cfunctions.log1p(rest)
    found = expr.replace(lambda e: isinstance(e, sp.log) and e.args[0].is_Add and e.args[0].free_symbols & large,
                         split)
    return None if found == expr else sp.expand(found)


def _pair_logs(expr: sp.Expr, diagonal: dict) -> sp.Expr:
    """c_q log(A(q)) + c_p log(A(p)) -> c_q log(A(q)/A(p)) + (c_q + c_p) log(A(p)): the ratio is 1 on the
    diagonal, where phi keeps its digits, and the rest often cancels symbolically."""
    out = sp.expand(sp.expand_log(expr, force=True))
    for log_q in sorted(out.atoms(sp.log), key=sp.default_sort_key):
        log_p = sp.log(log_q.args[0].subs(diagonal))
        if log_p == log_q or not out.has(log_q) or not out.has(log_p):
            continue
        c_q, c_p = out.coeff(log_q), out.coeff(log_p)
        rest = sp.expand(out - c_q * log_q - c_p * log_p, log=False)
        if rest.has(log_q, log_p) or c_q.has(sp.log) or c_p.has(sp.log):
            continue
        out = rest + c_q * sp.log(log_q.args[0] / log_p.args[0]) + sp.expand(c_q + c_p, log=False) * log_p
    return out


def _phi_forms(expr: sp.Expr, diagonal: dict, identities: dict | None) -> list[sp.Expr]:
    """expr with each log that vanishes on the diagonal written c*log(u) = c*(t - phi(t, u)), t = u**k - 1 for the
    k in (1, -1, 2, -2) that leave the shortest linear part (one k for all beyond three logs); the three best."""
    terms = sp.Add.make_args(expr)
    logs = [(t, c, lg) for t in terms for c, lg in [t.as_independent(sp.log, as_Add=False)]
            if isinstance(lg, sp.log) and not c.has(sp.log) and sp.simplify(lg.args[0].subs(diagonal)) == 1]
    if not logs or not diagonal:
        return [expr]
    rest = sp.Add(*[t for t in terms if t not in {t for t, _, _ in logs}])
    powers = (1, -1, 2, -2)
    choices = itertools.product(powers, repeat=len(logs)) if len(logs) <= 3 else [(k,) * len(logs) for k in powers]
    candidates = []
    for choice in choices:
        linear, cores = rest, []
        for (_, c, lg), k in zip(logs, choice):
            t = sp.factor(lg.args[0] ** k - 1)
            linear += c * t / k
            cores.append(-c / k * phi(t, lg.args[0] ** k))
        linear = _tidy(_split_exponentials(sp.expand(linear, log=False), diagonal).subs(identities or {}))
        candidates.append((sp.count_ops(linear), linear, cores))
    candidates.sort(key=lambda item: item[0])
    forms = [sp.Add(linear, *cores) for _, linear, cores in candidates[:3]]
    return forms + [d for d in (_with_differences(form, diagonal) for form in forms) if d not in forms]


class delta(sp.Function):
    """delta(q, p) = q - p, kept as one operation: computed first, it is exact in floats when q is near p
    (Sterbenz), where (high_p - high_q - low_p + low_q) summed left to right would not be."""

    def _eval_rewrite_as_Add(self, q, p, **kwargs):
        return q - p


def _with_differences(form: sp.Expr, diagonal: dict) -> sp.Expr:
    """form with each rational coefficient, and each phi's t, written through the differences q - p of paired
    parameters (functions' arguments keep q itself: p + (q - p) need not round back to q)."""
    shift = {q: sp.Dummy(f"d_{q.name}") for q in diagonal}

    def rewrite(e):
        e = sp.factor(e.subs({q: p + shift[q] for q, p in diagonal.items()}))
        return e.xreplace({d: delta(q, diagonal[q]) for q, d in shift.items()})

    def term(t):
        if isinstance(t, sp.Piecewise):
            return sp.Piecewise(*[(_with_differences(b, diagonal), c) for b, c in t.args])
        coeff, rest = t.as_independent(sp.Function, sp.log, as_Add=False)
        rest = rest.replace(lambda e: isinstance(e, phi), lambda e: phi(rewrite(e.args[0]), e.args[1]))
        return (rewrite(coeff) if coeff.has(*diagonal) else coeff) * rest
    return sp.Add(*[term(t) for t in sp.Add.make_args(form)])


def _tidy(expr: sp.Expr) -> sp.Expr:
    """The rational part factored, each transcendental function with its coefficient factored: never one big
    fraction, where the large terms of the function parts would cancel only in floating point."""
    expr = sp.expand(expr, log=False)
    functions = sorted({f for f in expr.atoms(sp.Function, sp.log) if not isinstance(f, phi)}, key=sp.default_sort_key)
    collected = sp.collect(expr, functions, evaluate=False) if functions else {sp.S.One: expr}
    return sp.Add(*[sp.factor(coeff) * f for f, coeff in collected.items()])


def _split_exponentials(expr: sp.Expr, diagonal: dict) -> sp.Expr:
    """exp(a) -> 1 + a + expm1x(a) where a vanishes on the diagonal, so that the 1 + a parts cancel exactly."""
    vanishing = [e for e in expr.atoms(sp.exp) if sp.simplify(e.args[0].subs(diagonal)) == 0]
    if not vanishing:
        return expr
    return sp.expand(expr.xreplace({e: 1 + e.args[0] + expm1x(e.args[0]) for e in vanishing}), log=False)


def _diagonal(symbols) -> dict:
    """Q's parameters -> P's: the substitution that makes P and Q equal (when the names pair up)."""
    names = {s.name: s for s in symbols}
    return {names[n]: names[n[:-2] + "_p"] for n in names if n.endswith("_q") and n[:-2] + "_p" in names}


REGIMES = ("general", "near", "extreme", "boundary", "equal")


def stress_points(symbols: tuple, domains: dict, rng: random.Random, n: int = 12, identities: dict | None = None,
                  valid=None) -> dict[str, list[tuple]]:
    """Float parameter points in each stress regime (up to ``n`` each): general; near, Q = P(1 + d) with |d| from
    1e-12 to 1e-2 (KL ~ d**2, the trust-region regime); extreme, positive parameters from 1e-8 to 1e8; boundary,
    probabilities at 0, 1e-12, 1 - 1e-12 and 1 where allowed; equal, Q = P exactly. Groups bound by an identity
    (p1 + ... + pK = 1) are normalized; ``valid(point)`` filters out points breaking a relation (low < high)."""
    diagonal = _diagonal(symbols)
    has_unit = any(domains[s].startswith("unit") for s in symbols)
    draws = {"general": lambda v: None, "near": lambda v: _move_q(v, diagonal, 10 ** rng.uniform(-12, -2), rng),
             "extreme": lambda v: _extreme(v, domains, diagonal, rng),
             "boundary": lambda v: _boundary(v, domains, diagonal, rng),
             "equal": lambda v: _move_q(v, diagonal, 0.0, rng)}
    out = {}
    for regime, draw in draws.items():
        if (regime in ("near", "equal") and not diagonal) or (regime == "boundary" and not has_unit):
            continue
        points = []
        for _ in range(40 * n):
            if len(points) == n:
                break
            values = {s: _draw(domains[s], rng) for s in symbols}
            _normalize(values, identities)
            draw(values)
            _normalize(values, identities)
            point = tuple(values[s] for s in symbols)
            # inside every domain (Q = P copies a lognormal's real mu into an inversegaussian's positive one)
            if all(DOMAIN_CHECKS[domains[s]](np.float64(v)) for s, v in zip(symbols, point)) and \
                    (valid is None or valid(point)):
                points.append(point)
        out[regime] = points
    return out


def sample_points(symbols: tuple, domains: dict, rng: random.Random, n: int = 40,
                  identities: dict | None = None, valid=None) -> list[tuple]:
    """About ``n`` points spread over every stress regime: what the choice of a form is measured on."""
    regimes = stress_points(symbols, domains, rng, max(2, n // len(REGIMES)), identities, valid)
    return [point for points in regimes.values() for point in points]


def _move_q(values: dict, diagonal: dict, scale: float, rng: random.Random) -> None:
    for q, p in diagonal.items():
        values[q] = values[p] if q.is_integer else values[p] * (1 + scale * rng.uniform(-1, 1))


def _extreme(values: dict, domains: dict, diagonal: dict, rng: random.Random) -> None:
    """Positive parameters at scales from 1e-8 to 1e8 (most at the far ends): each on its own, or P's at one
    scale with Q's near it."""
    shared = rng.random() < 0.5
    for s in values:
        if domains[s] == "positive" and not (shared and s in diagonal):
            values[s] = 10 ** (rng.choice((-8, -6, -4, 4, 6, 7)) + rng.random())
    if shared:
        for q, p in diagonal.items():
            if domains[q] == "positive":
                values[q] = values[p] * 10 ** rng.uniform(-1, 1)


def _boundary(values: dict, domains: dict, diagonal: dict, rng: random.Random) -> None:
    """Probabilities at 0, 1e-12, 1 - 1e-12 or 1; mostly with Q's then 5% to 90% off P's, relative to the
    distance from the edge (p = 1e-12, q = 1.3e-12: where 1 - q rounds and log(1 - q) - log(1 - p) is all error)."""
    for s in values:
        allowed = {"unit": (0.0, 1e-12, 1 - 1e-12, 1.0), "unit_open": (1e-12, 1 - 1e-12),
                   "unit_left_open": (1e-12, 1 - 1e-12, 1.0)}.get(domains[s])
        if allowed and rng.random() < 0.7:
            values[s] = rng.choice(allowed)
    if rng.random() < 0.7:
        for q, p in diagonal.items():
            v, off = values[p], 1 + rng.choice((-1, 1)) * rng.uniform(0.05, 0.9)
            if domains[q].startswith("unit") and v in (1e-12, 1 - 1e-12):
                values[q] = v * off if v < 0.5 else 1 - (1 - v) * off


def _normalize(values: dict, identities: dict | None) -> None:
    """Make each group bound by an identity (p1 + ... + pK = 1) sum to exactly 1 in float64: multiples of 2**-52
    below 1 add without rounding, so the last member is 1 minus the others, exactly."""
    for group in identities or {}:
        members = [s for s in sorted(group.args, key=str) if s in values]
        total = sum(values[s] for s in members)
        for s in members[:-1]:
            values[s] = math.floor(values[s] / total * 2.0**52) / 2.0**52  # down: the last stays >= 0
        values[members[-1]] = 1.0 - sum(values[s] for s in members[:-1])


def _draw(domain: str, rng: random.Random) -> float:
    if domain == "posint":  # n = 1 often: where binomial meets bernoulli, and terms in n - 1 cancel
        return 1.0 if rng.random() < 1 / 3 else float(rng.randint(2, 20))
    if domain.startswith("unit"):
        return rng.uniform(0.05, 0.95)
    return 10 ** rng.uniform(-1, 1.5) if domain == "positive" else rng.uniform(-5, 5)


EDGE_SUM_TERMS = 1000  # a series at an edge with numbers alone, and at most this many terms, is summed exactly


def _constants_summed(expr: sp.Expr, symbols: tuple) -> sp.Expr:
    """expr at an edge with what cancels there cancelled: a series whose terms hold 0**k (P all at 0) as its
    k = 0 term, logs of gamma functions as loggamma, short series of numbers summed, and the terms free of
    ``symbols`` taken together at 40 digits. binomial(12, 0)||binomial(17, 1e-12) is -17 log1p(-p_q) plus log(12!)
    - log(17!/12!) and sums that make log(17!) - log(12!), 0 in all, which floats left at 1e-15 where KL is
    1.7e-11."""
    expr = _as_loggamma(expr.replace(
        lambda e: isinstance(e, sp.Sum) and len(e.limits) == 1 and e.limits[0][1] == 0
        and e.function.has(sp.Pow(0, e.limits[0][0], evaluate=False)),
        lambda e: e.function.subs(e.limits[0][0], 0)))
    short = {e: e.doit() for e in expr.atoms(sp.Sum) if not e.free_symbols and all(
        (hi - lo).is_number and hi - lo < EDGE_SUM_TERMS for _, lo, hi in e.limits)}
    constant, rest = expr.xreplace(short).as_independent(*symbols, as_Add=True)
    if constant == 0 or constant.has(sp.Sum) or not constant.is_number:
        return expr
    value = constant.evalf(40)
    return rest + (0 if abs(value) < 1e-35 else value)


class Edges:
    """Where a probability is exactly 0 or 1, a closed form reads 0*log(0) = nan; the value there is the
    expression specialized with 0 log 0 = 0 (limits where infinities cancel), one form per pattern of edge
    values, made when first met (3**k patterns for k probabilities: never all up front). Where that still
    depends on an integer (bernoulli(1)||binomial(n, 1) is 0 at n = 1 and oo beyond), the integers' values join
    the pattern and are substituted first."""

    def __init__(self, expr: sp.Expr, symbols: tuple, domains: dict):
        self.expr, self.symbols, self.domains = expr, symbols, domains
        self.index = [i for i, s in enumerate(symbols) if domains.get(s, "").startswith("unit")]
        self.integers = [i for i, s in enumerate(symbols) if domains.get(s) == "posint"]
        self.forms: dict = {}
        self.functions: dict = {}
        self.lock = threading.RLock()

    def pattern(self, point) -> tuple:
        edges = tuple((i, float(point[i])) for i in self.index if point[i] in (0.0, 1.0))
        if edges and self.integers and self._undecided(self.form(edges)):
            edges += tuple((i, float(point[i])) for i in self.integers)
        return edges

    def _undecided(self, form: sp.Expr) -> bool:
        """nan, or an infinity times something an integer may make 0: -oo*(1 - n_q)."""
        integers = {self.symbols[i] for i in self.integers}
        return form.has(sp.nan, sp.zoo) or form.has(sp.oo, -sp.oo) and bool(form.free_symbols & integers)

    def form(self, pattern: tuple) -> sp.Expr:
        from .result import substitute
        with self.lock:
            if pattern not in self.forms:
                values = {self.symbols[i]: sp.Integer(int(v)) for i, v in pattern}
                integers = {s: v for s, v in values.items() if self.domains.get(s) == "posint"}
                edges = {s: v for s, v in values.items() if s not in integers}
                form = substitute(self.expr, integers) if integers else self.expr
                self.forms[pattern] = sp.sympify(substitute(form, edges))  # safe: a sympy expr
            return self.forms[pattern]

    def mpmath_form(self, point, **limits):
        """The mpmath function for this point's edge pattern (``limits`` as mpmath_lambda's), or None when no
        probability is at an edge."""
        pattern = self.pattern(point)
        return mpmath_lambda(self.symbols, self.form(pattern), **limits) if pattern else None

    def fill(self, arrays: list, out: np.ndarray) -> None:
        """Overwrite out on the rows where some probability is exactly 0 or 1, pattern by pattern."""
        if not self.index:
            return
        at_edge = np.zeros(out.shape, dtype=bool)
        for i in self.index:
            at_edge |= arrays[i] == 0
            at_edge |= arrays[i] == 1
        if not at_edge.any():  # the common case costs two comparisons per probability
            return
        codes = np.zeros(out.shape, dtype=np.int64)
        for k, i in enumerate(self.index):
            codes += 3**k * ((arrays[i] == 0) + 2 * (arrays[i] == 1))
        for code in np.unique(codes[at_edge]):
            rows = codes == code
            for group in self._integer_groups(arrays, rows):
                pattern = self.pattern([a[group].flat[0] for a in arrays])
                if pattern not in self.functions:
                    self.functions[pattern] = numpy_lambda(self.symbols, with_log1p(_constants_summed(
                        self.form(pattern), self.symbols)))
                with np.errstate(all="ignore"):
                    out[group] = self.functions[pattern](*[a[group] for a in arrays])

    def _integer_groups(self, arrays, rows):
        """The rows split by their integers' values where the edge form depends on them, else as they are."""
        first = [a[rows].flat[0] for a in arrays]
        if len(self.pattern(first)) == sum(first[i] in (0.0, 1.0) for i in self.index):
            return [rows]
        values = np.stack([np.broadcast_to(arrays[i], rows.shape) for i in self.integers], axis=-1)
        return [rows & np.all(values == key, axis=-1) for key in np.unique(values[rows], axis=0)]


TRUTH_DPS = 60
# A point whose reference series needs more terms on one side of its largest (about 75 us each at TRUTH_DPS) is
# left out: a count, so the same points are left out on any machine (a time budget made that depend on its speed).
TRUTH_MAX_TERMS = 1 << 14
# A guard, not a measure: a reference takes milliseconds, or hours (E1 of exp(1e8) makes mpmath compute log(2) to
# 1e8 bits), so which points it leaves out does not depend on the machine.
TRUTH_SECONDS = 5.0


def _truth(reference, symbols, points, domains: dict | None = None) -> list:
    """The reference expression at each float point, to at least 25 correct digits (mpmath); where a
    probability is exactly 0 or 1, the expression specialized there (0 log 0 = 0); None where mpmath cannot
    evaluate it (a series needing more than TRUTH_MAX_TERMS terms), or its value does not settle. erf is taken
    as 1 - erfc (erf_as_erfc)."""
    reference = erf_as_erfc(reference)
    edges = Edges(reference, symbols, domains or {})
    general = mpmath_lambda(symbols, reference, TRUTH_MAX_TERMS)
    out = []
    for point in points:
        f = edges.mpmath_form(point, max_terms=TRUTH_MAX_TERMS) or general
        try:
            out.append(_settled(f, [int(v) if s.is_integer else mpmath.mpf(v) for s, v in zip(symbols, point)]))
        except (mpmath.libmp.NoConvergence, ZeroDivisionError, ValueError):
            out.append(None)
    return out


TRUTH_PRECISIONS = (TRUTH_DPS, 90, 135, 200, 300)
AGREED = mpmath.mpf(10) ** -25
ZERO = mpmath.mpf(10) ** -40  # below this the reference is 0 up to its own rounding: the value must be exactly 0


def _settled(f, args):
    """f(*args) at rising precision until two precisions agree to AGREED: a closed form whose terms cancel to
    70 digits (exp(165) (1 - erf(12.6)) in halfnormal||gumbel) read 10.59 at 60 digits, where it is 41.87."""
    previous = None
    for dps in TRUTH_PRECISIONS:
        with mpmath.workdps(dps):
            value = attempt(TRUTH_SECONDS, "a reference value", lambda: f(*args))
        if value is None:
            return None
        if previous is not None and _agree(previous, value):
            return value
        previous = value
    return None


def _agree(a, b, within=AGREED, zero=ZERO) -> bool:
    """Whether two mpmath values agree to ``within``, relative (both below ``zero`` in size count as one)."""
    if not (mpmath.isfinite(a) and mpmath.isfinite(b)):
        return a == b
    size = max(abs(a), abs(b))
    return size < zero or abs(a - b) <= within * size


FLOAT_MAX = np.finfo(float).max


def _errors(fn, truth, points) -> list[float]:
    """|fn(x) - truth|/|truth| at each point: inf where a finite value is missing, or where the truth is 0 and
    the value is not exactly 0; beyond the float range, only the matching infinity is right. Points without a
    reference value are left out. A complex value (a candidate holding log(-1) as I*pi) counts as missing."""
    if not points:
        return []
    with np.errstate(all="ignore"):
        raw = np.asarray(fn(*np.array(points, dtype=float).T)) * np.ones(len(points))
        got = np.where(np.iscomplex(raw), np.nan, np.real(raw)).astype(float)
    out = []
    with mpmath.workdps(TRUTH_DPS):
        for value, exact in zip(got, truth):
            if exact is None:
                continue
            if not mpmath.isfinite(exact) or abs(exact) > FLOAT_MAX:
                out.append(0.0 if value == float(exact) else np.inf)
            elif abs(exact) < ZERO:
                out.append(0.0 if value == 0 else np.inf)
            elif not np.isfinite(value):
                out.append(np.inf)
            else:
                out.append(float(abs(mpmath.mpf(value) - exact) / abs(exact)))
    return out


def _softplus(expr: sp.Expr) -> sp.Expr:
    """Each log1p of a product of exponentials as softplus of their summed exponents: never less accurate, and
    finite where the exponential alone overflows."""
    def exponent(u):
        factors = sp.Mul.make_args(u)
        return sp.Add(*[f.args[0] for f in factors]) if all(isinstance(f, sp.exp) for f in factors) else None
    return expr.replace(lambda e: isinstance(e, cfunctions.log1p) and exponent(e.args[0]) is not None,
                        lambda e: softplus(exponent(e.args[0])))


def with_log1p(expr: sp.Expr) -> sp.Expr:
    """log(1 + u) as log1p(u) and exp(u) - 1 as expm1(u): exact where u is tiny, e.g. log(1 - q) at q = 1e-12."""
    from sympy.codegen.rewriting import log1p_opt, optimize
    if expr.has(sp.oo, -sp.oo, sp.zoo):
        return expr  # the rewriting turns oo*(p - 1) into nan
    return optimize(expr, [log1p_opt, _expm1_opt()])


@lru_cache(maxsize=1)
def _expm1_opt():
    """sympy's expm1 rewriting without its second try on expr.factor(): factoring a whole KL ran for over ten
    minutes (continuousbernoulli||normal, 600 operations; beta||continuousbernoulli, under 100)."""
    from sympy.codegen.cfunctions import expm1
    from sympy.codegen.rewriting import FuncMinusOneOptim, ReplaceOptim

    class Unfactored(FuncMinusOneOptim):
        __call__ = ReplaceOptim.__call__
    return Unfactored(sp.exp, expm1)


class PowerPrinter(SciPyPrinter):
    """Small integer powers as products (x*x*x, 1/(x*x), 1/x): numpy's pow takes 5 to 10 times as long as a
    product, and a KL has many; squares keep numpy's own fast path."""

    def _print_Pow(self, expr, rational=False):
        n = expr.exp
        if n.is_Integer and n != 2 and 1 <= abs(n) <= 4:
            base = self.parenthesize(expr.base, PRECEDENCE["Mul"], strict=True)
            product = "*".join([base] * abs(int(n)))
            return f"({product})" if n > 0 else f"(1/({product}))"
        return super()._print_Pow(expr, rational=rational)

    def _print_betainc_regularized(self, expr):
        """I(a, b; x1, x2) as one scipy call where x1 = 0, else a difference in parentheses: sympy's printer left
        the difference bare, so 2*I(a, b; x1, x2) printed as 2*betainc(a, b, x2) - betainc(a, b, x1)."""
        a, b, x1, x2 = (self._print(v) for v in expr.args)
        betainc = self._module_format("scipy.special.betainc")
        return f"{betainc}({a}, {b}, {x2})" if expr.args[2] == 0 else \
            f"({betainc}({a}, {b}, {x2}) - {betainc}({a}, {b}, {x1}))"


def numpy_lambda(symbols, expr):
    """expr as a float64 numpy function, each common subexpression computed once; each series (an exact
    Sum the engine could not close) summed term by term over all rows at once."""
    expr, sums = _lift_sums(expr)
    printer = PowerPrinter({"fully_qualified_modules": False, "inline": True, "allow_unknown_functions": True,
                            "user_functions": {name: name for name in NUMPY_MODULES[0]}})
    main = sp.lambdify(tuple(symbols) + tuple(s for s, *_ in sums), expr, modules=NUMPY_MODULES, cse=True,
                       printer=printer)
    if not sums:
        return main
    series = [_numpy_series(summand, k, lo, hi, symbols) for _, summand, k, lo, hi in sums]

    def evaluate(*args):
        arrays = np.broadcast_arrays(*[np.asarray(a, dtype=float) for a in args])
        return main(*arrays, *[s(*arrays) for s in series])
    return evaluate


def mpmath_lambda(symbols, expr, max_terms: int | None = None, maxprec: int | None = None):
    """expr as a scalar mpmath function; each series summed from its largest term outward (series.py), raising
    ValueError where it needs more than max_terms (default: series.MPMATH_MAX_TERMS) on one side; with maxprec,
    Meijer G and hypergeometric functions raise ValueError rather than work past that many bits (mpmath's own
    limit let one float row take 35 s, to fail anyway)."""
    from .series import MPMATH_MAX_TERMS, mpmath_sum
    max_terms = max_terms or MPMATH_MAX_TERMS
    modules = MPMATH_MODULES if maxprec is None else [
        {"meijerg": partial(mpmath.meijerg, maxprec=maxprec), "hyper": partial(mpmath.hyper, maxprec=maxprec)},
        *MPMATH_MODULES]
    expr, sums = _lift_sums(expr)
    main = sp.lambdify(tuple(symbols) + tuple(s for s, *_ in sums), expr, modules=modules)
    series = [(sp.lambdify((k,) + tuple(symbols), _log_space(summand), modules=modules),
               sp.lambdify(symbols, lo, modules=modules), sp.lambdify(symbols, hi, modules=modules))
              for _, summand, k, lo, hi in sums]

    def evaluate(*args):
        return main(*args, *[mpmath_sum(lambda k, t=term: t(k, *args), lo(*args), hi(*args), max_terms)
                             for term, lo, hi in series])
    return evaluate


def _lift_sums(expr: sp.Expr) -> tuple[sp.Expr, list]:
    """expr with each Sum replaced by a symbol: (expr, [(symbol, summand, k, low, high)]); k becomes a plain real
    symbol (for an integer k, sympy turns loggamma(k + 1) back into log(gamma(k + 1)), which overflows)."""
    sums = sorted(expr.atoms(sp.Sum), key=sp.default_sort_key) if isinstance(expr, sp.Basic) else []
    real_k = [sp.Dummy(s.limits[0][0].name, real=True) for s in sums]
    lifted = [(sp.Dummy(f"series{i}"), s.function.xreplace({s.limits[0][0]: k}), k, *s.limits[0][1:])
              for i, (s, k) in enumerate(zip(sums, real_k))]
    return (expr.xreplace({s: d for s, (d, *_) in zip(sums, lifted)}) if sums else expr), lifted


def _numpy_series(summand: sp.Expr, k: sp.Symbol, lo: sp.Expr, hi: sp.Expr, symbols: tuple):
    """Sum over k for all rows at once (series.numpy_sum). The summand is evaluated in log space: pmf factors
    such as gamma(n + 1)/(gamma(k + 1) gamma(n - k + 1)) p**k overflow separately, not together."""
    from .series import numpy_sum
    logs, rest = _log_parts(summand)
    term = sp.lambdify((k,) + tuple(symbols), sp.exp(logs) * rest, modules=NUMPY_MODULES)
    log_size = sp.lambdify((k,) + tuple(symbols), logs + sp.log(sp.Abs(rest)), modules=NUMPY_MODULES)
    low = sp.lambdify(symbols, lo, modules=NUMPY_MODULES)
    high = sp.lambdify(symbols, hi, modules=NUMPY_MODULES)

    def evaluate(*arrays):
        shape = np.shape(arrays[0]) if arrays else ()
        a, b = (np.broadcast_to(np.asarray(f(*arrays), dtype=float), shape) for f in (low, high))

        flat = [np.broadcast_to(x, shape).reshape(-1) for x in arrays]

        def at(kk, expand=False, fn=term, rows=None):
            """fn at kk: one k per row, a row of ks per row (``expand``), or per row of ``rows`` (flat)."""
            if rows is not None:
                return fn(kk, *[x[rows, None] for x in flat])
            return fn(kk, *[x[..., None] if expand else x for x in arrays])
        return numpy_sum(at, a, b, lambda kk, expand=False: at(kk, expand, log_size))
    return evaluate


def _log_parts(summand: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """summand = exp(L) * rest: L the sum of the logs of its exponential, power and gamma factors (pmf factors
    that overflow separately, not together), rest the other factors; log(gamma(u)) read as loggamma(u). A sum of
    terms sharing a pmf has it taken out first (poisson||negativebinomial: rate**k exp(-rate)/k! times a sum;
    whole, its terms overflowed at rate 1e4 and the series read 0)."""
    summand = sp.factor_terms(summand) if summand.is_Add else summand
    summand = _log_gamma_as_loggamma(summand)
    logs, rest = [], []
    for f in sp.Mul.make_args(summand):
        base, power = f.as_base_exp()
        if isinstance(f, sp.exp):
            logs.append(f.args[0])
        elif isinstance(base, sp.gamma):
            logs.append(power * sp.loggamma(base.args[0]))
        elif power.has(sp.Symbol) and not base.is_number:
            logs.append(power * sp.log(base))
        else:
            rest.append(f)
    return sp.Add(*logs), sp.Mul(*rest)


def _log_space(summand: sp.Expr) -> sp.Expr:
    logs, rest = _log_parts(summand)
    return sp.exp(logs) * rest


def relative_errors(candidate, reference, symbols, points, domains: dict | None = None) -> list[float]:
    """|f(x) - truth|/|truth| at each point (the candidate, a float64 function or an expression, against the
    reference at 50 digits)."""
    fn = numpy_lambda(symbols, candidate) if isinstance(candidate, sp.Basic) else candidate
    return _errors(fn, _truth(reference, symbols, points, domains), points)


def diagonal_series(expr: sp.Expr, symbols: tuple, order: int = 12) -> sp.Expr | None:
    """The Taylor expansion of expr around Q = P to ``order`` (None where expr is not analytic there):
    near the diagonal it has no cancellation at all, where every closed form has some."""
    diagonal = _diagonal(symbols)
    if not diagonal or expr.has(sp.Abs, sp.Piecewise, sp.Sum, sp.sign):
        return None
    t = sp.Dummy("t")
    step = {q: sp.Dummy(f"d_{q.name}") for q in diagonal}
    shifted = expr.subs({q: p + t * step[q] for q, p in diagonal.items()})
    try:
        series = attempt(10, "the diagonal series",
                         lambda: sp.expand(sp.series(shifted, t, 0, order).removeO().subs(t, 1)))
    except (NotImplementedError, ValueError, TypeError):
        return None
    if series is None or series.has(sp.Order, sp.nan, sp.zoo):
        return None
    return series.subs({d: q - diagonal[q] for q, d in step.items()})


REMAINDER_NODES = 8  # Gauss-Legendre nodes: exact to s**15, so to (q - p)**16 relative where Q is near P


def remainder_form(expr: sp.Expr, symbols: tuple) -> sp.Expr | None:
    """expr near the diagonal by Taylor's remainder in integral form: where expr and its gradient in Q's
    parameters vanish at Q = P (a KL does), expr = integral_0^1 (1 - s) d^T H(P + s d) d ds with d = Q - P and H
    expr's Hessian in Q, taken by Gauss-Legendre. No term cancels however near Q is to P, where the closed form's
    terms cancel to ~d**2; unlike the Taylor series, it needs only H (sympy's series of a 600-operation KL runs
    out of its time; a series is differentiated term by term: negativebinomial||negativebinomial's two sums cancel
    to 1e-25 next to P = Q, where their Hessian's trigamma sums do not). None where expr is not smooth in Q, where Q
    has an integer parameter, or where expr or its gradient does not vanish on the diagonal (a cross-entropy:
    measured at 50 digits at seeded points)."""
    diagonal = _diagonal(symbols)
    if not diagonal or any(q.is_integer for q in diagonal) or expr.has(sp.Abs, sp.Piecewise, sp.sign):
        return None
    qs = [s for s in symbols if s in diagonal]
    on_diagonal = [expr.subs(diagonal)] + [sp.diff(expr, q).subs(diagonal) for q in qs]
    if not _vanish(on_diagonal, [s for s in symbols if s not in diagonal]):
        return None
    hessian = {(i, j): sp.diff(expr, qs[i], qs[j]) for i in range(len(qs)) for j in range(i, len(qs))}
    d = {q: delta(q, diagonal[q]) for q in qs}
    from sympy.integrals.quadrature import gauss_legendre
    nodes, weights = gauss_legendre(REMAINDER_NODES, 20)
    terms = []
    for x, w in zip(nodes, weights):
        s_ = (x + 1) / 2  # on [0, 1]: weight w/2, times the remainder's (1 - s)
        at = {q: diagonal[q] + s_ * d[q] for q in qs}
        terms += [(w / 2) * (1 - s_) * (1 if i == j else 2) * d[qs[i]] * d[qs[j]] * h.xreplace(at)
                  for (i, j), h in hessian.items()]
    return sp.Add(*terms)


def _vanish(exprs: list, free: list, dps: int = 50) -> bool:
    """Whether each expression (of P's parameters only) is 0 to 10**-(dps - 10) at three seeded points."""
    rng = random.Random(0)
    points = [{s: mpmath.mpf(rng.uniform(0.2, 0.8)) for s in free} for _ in range(3)]
    with mpmath.workdps(dps):
        try:
            return all(abs(mpmath_lambda(tuple(free), e)(*[pt[s] for s in free])) < mpmath.mpf(10) ** (10 - dps)
                       for e in exprs for pt in points)
        except (TypeError, ValueError, ZeroDivisionError):
            return False


NEAR_SPAN = 1 / 3
"""How far (relative to its distance from the edge of its domain) a positive Q parameter may be from P's for a
small value to switch in the form about P = Q. That form integrates the Hessian along the segment from P to Q by
8-point Gauss-Legendre, and the Hessian has a pole at the edge (1/shape**2, 1/lam**2): a pole 1/NEAR_SPAN segment
lengths away costs ~1e-16 there, one at the segment's end all digits (a negative binomial of r_p = 3.6e-6 against
r_q = 2.9e-8, KL 1e-6, read 5% off; a continuous Bernoulli at lam 1e-12 against 3e-13, 1e-3 off)."""


def _near(symbols: tuple, threshold: float, domains: dict | None = None):
    """A mask function for the rows next to P = Q: the value so far below ``threshold`` in size (Q next to P in
    every parameter at once, whatever their scales) with no positive Q parameter further than NEAR_SPAN of P's
    distance from its domain's edge (0, or 1 for a probability) and no real one further than sqrt(threshold) (a
    value small for another reason, a von Mises of kappa 1e-6 with locations 2 apart, is no place for a series
    about P = Q: its terms in the location gap, cut at the 10th power, were 6e-7 off), or every Q parameter within
    sqrt(threshold) of P's, relative to that distance (where KL ~ d**2 is large only because a rate is, and its
    terms cancel all the same)."""
    index = {s: i for i, s in enumerate(symbols)}
    pairs = [(index[q], index[p]) for q, p in _diagonal(symbols).items()]
    step = threshold ** 0.5
    unit = {s for s, d in (domains or {}).items() if d.startswith("unit")}

    def mask(arrays, out):  # numpy, torch or jax arrays alike
        close = arrays[0] == arrays[0] if pairs else arrays[0] != arrays[0]
        small = abs(out) < threshold
        for qi, pi in pairs:
            p = arrays[pi]
            positive = symbols[pi].is_positive
            scale = (p * (p <= 0.5) + (1 - p) * (p > 0.5) if symbols[pi] in unit else abs(p)) if positive \
                else abs(p).clip(min=1.0)
            gap = abs(arrays[qi] - p)
            close = close & (gap <= step * scale)
            small = small & (gap <= (NEAR_SPAN * scale if positive else step))
        return small | close
    return mask


def _hybrid(closed, other, mask):
    """closed(x) everywhere, other(x) on the rows the mask (of the arguments and closed's values) selects."""
    def evaluate(*arrays):
        with np.errstate(all="ignore"):
            out = closed(*arrays)
            if not (isinstance(out, np.ndarray) and out.shape == np.shape(arrays[0]) and out.dtype == float
                    and out.flags.writeable):
                out = np.array(np.broadcast_to(out, np.shape(arrays[0])), dtype=float)
            rows = mask(arrays, out)
            if np.any(rows):
                out[rows] = other(*[np.broadcast_to(a, out.shape)[rows] for a in arrays])
        return out
    return evaluate


def best_function(expr: sp.Expr, symbols: tuple, domains: dict, identities: dict | None = None, valid=None,
                  seed: int = 0):
    """The most accurate float64 function: each stable form alone; a fast form with the Stirling form switched
    in where a gamma function's argument is large; either with the form most accurate near the diagonal (or the
    diagonal series) switched in below a threshold;
    all measured at the same sampled points. First the fewest points worse than 1e-13 (one hopeless corner must
    not hide the difference elsewhere), then among those within a factor 4 of the most accurate (or below
    1e-14), the fewest operations. Returns (form, Stirling form where large or None, (form near the diagonal,
    threshold) or None)."""
    edges = Edges(expr, symbols, domains)
    points = [pt for pt in sample_points(symbols, domains, random.Random(seed), 125, identities, valid)
              if not edges.pattern(pt)]
    truth = _truth(expr, symbols, points)

    @lru_cache(maxsize=None)
    def rescue(e):  # built only for a form with a nan row, once per form
        return _rescue(e, symbols, domains)

    def score(fn, ops, form, large=None, switch=None):  # measured as used: with its float rows' rescue, and its cost
        rescued = _rescuing(fn, lambda: [rescue(e) for e in dict.fromkeys((form, expr))])
        badness = _badness(_errors(rescued, truth, points))
        return *badness, ops + RESCUE_OPS * rescued.count[0] / max(len(points), 1), fn, form, large, switch

    scored = [score(numpy_lambda(symbols, form), cost(form), form)
              for form in stable_forms(expr, symbols, identities)]
    stirling = [item for item in scored if item[4].has(lgamma_rem, digamma_rem)]
    if stirling:
        large = _large_gamma_arguments(expr, symbols)
        rows = [i for i, is_large in enumerate(large(np.array(points, dtype=float).T)) if is_large]
        _, _, _, best, best_form, _, _ = min(stirling, key=lambda item: _badness(
            _errors(item[3], [truth[i] for i in rows], [points[i] for i in rows])))
        scored += [score(_hybrid(fn, best, large), ops, form, best_form) for _, _, ops, fn, form, _, _ in scored
                   if not form.has(lgamma_rem, digamma_rem)]
    switch_ops = 2 + 6 * len(_diagonal(symbols)) + 10  # the mask, and gathering and scattering the near rows
    scored += [score(_hybrid(fn, near_fn, _near(symbols, threshold, domains)), ops + switch_ops + near_ops / 4,
                     form, large, (near_form, threshold))  # the near form runs on the few rows near P = Q only
               for (_, _, ops, fn, form, large, _), (near_fn, near_ops, near_form), threshold
               in itertools.product(list(scored), _near_forms(expr, symbols, scored, truth, points),
                                    (1e-4, 1e-3, 1e-2, 0.1))
               if near_form != form]
    fewest_bad = min(item[0] for item in scored)
    scored = [item for item in scored if item[0] == fewest_bad]
    good_enough = max(4 * min(item[1] for item in scored), 1e-14)
    return min((item for item in scored if item[1] <= good_enough), key=lambda item: item[2])[4:]


def _assemble(symbols: tuple, domains: dict, form: sp.Expr, large: sp.Expr | None, near: tuple | None):
    """The float64 function for best_function's choice: form, with the Stirling form where every gamma argument
    is large, and with the near form where the value is below the threshold (Q next to P)."""
    fn = numpy_lambda(symbols, form)
    if large is not None:
        fn = _hybrid(fn, numpy_lambda(symbols, large), _large_gamma_arguments(form, symbols))
    if near is not None:
        fn = _hybrid(fn, numpy_lambda(symbols, near[0]), _near(symbols, near[1], domains))
    return fn


def _near_forms(expr: sp.Expr, symbols: tuple, scored: list, truth: list, points: list) -> list:
    """What to switch to next to the diagonal, as (function, ops, form): the form most accurate there (a phi
    form, while a plain log form is better far away, where phi's linear parts grow large and cancel); where even
    that one leaves digits out, the Taylor series about Q = P, then the integral remainder."""
    rows = [i for i, value in enumerate(truth) if value is not None and abs(value) < 0.1]
    if not rows:
        return []
    near_truth, near_points = [truth[i] for i in rows], [points[i] for i in rows]
    best = min(scored, key=lambda item: _badness(_errors(item[3], near_truth, near_points)))
    out = [(best[3], best[2], best[4])]
    if _badness(_errors(best[3], near_truth, near_points))[1] > 1e-13:
        # the series where sympy finds it (H cancels along directions of equal mean: gamma's at shapes of 1e6,
        # outside the sampled points), else the remainder (continuousbernoulli's series runs out of time)
        form = diagonal_series(expr, symbols)
        form = remainder_form(expr, symbols) if form is None else form
        if form is not None:
            out.append((numpy_lambda(symbols, form), cost(form), form))
    return out


# Measured float64 costs relative to a product, per element (numpy and scipy.special on 2**16 rows).
COSTS = {"DIV": 2, "POW": 4, "LOG": 3, "EXP": 3, "LOG1P": 3, "EXPM1": 3, "PHI": 9, "EXPM1X": 8, "DELTA": 1,
         "LOGGAMMA": 60, "POLYGAMMA": 50, "LGAMMA_REM": 70, "DIGAMMA_REM": 55, "GAMMAINC_LOWER": 60,
         "GAMMAINC_UPPER": 60, "ERF": 10, "ERFC": 10, "ERFCX": 10, "LOGBESSELI0": 20}


def cost(expr: sp.Expr) -> float:
    """Roughly what evaluating expr costs, in products: a special function is dozens of them."""
    counts = sp.count_ops(expr, visual=True)
    weights = sp.sympify(counts).as_coefficients_dict()  # safe: count_ops' own sympy expression
    return float(sum(n * COSTS.get(str(op), 1) for op, n in weights.items()))


def _badness(errors: list) -> tuple:
    """(how many errors exceed 1e-13, the worst): what the choice of a form minimizes, in that order."""
    return sum(e > 1e-13 for e in errors), max(errors, default=0.0)


STIRLING_FROM = 1e3


def _large_gamma_arguments(expr: sp.Expr, symbols: tuple):
    """A mask function: rows where every parameter inside a loggamma or digamma is at least STIRLING_FROM (where
    some are small, the a*log(a) parts do not cancel between them and the plain form is the better one)."""
    inside = _gamma_arguments_symbols(expr)
    index = [i for i, s in enumerate(symbols) if s in inside]

    def mask(arrays, out=None):  # numpy, torch or jax arrays alike
        large = arrays[0] == arrays[0]
        for i in index:
            large = large & (abs(arrays[i]) >= STIRLING_FROM)
        return large
    return mask


def numpy_function(expr: sp.Expr, symbols: tuple, domains: dict, identities: dict | None = None,
                   validate: bool = False, valid=None):
    """A vectorized float64 function of ``symbols``: nan where a parameter is outside its domain
    (or ValueError naming it with validate=True). Large inputs are evaluated in blocks on all cores. Where floats
    fail inside a valid domain (inf - inf once a term overflows), that row is evaluated by mpmath instead."""
    from .cache import numeric_choice
    form, large, switch = numeric_choice(expr, symbols, domains,
                                         lambda: best_function(expr, symbols, domains, identities, valid))
    f = _assemble(symbols, domains, form, large, switch)
    checks = [(s.name, DOMAIN_CHECKS[domains[s]]) for s in symbols]
    edges = Edges(expr, symbols, domains)
    # a float row's rescue: the chosen form in mpmath, where only the float range failed it (its terms overflow;
    # the closed form itself cancels there: rayleigh||gumbel's e**1100 (1 - erf(33)) read 0 at 30 digits), then
    # the closed form
    rescues = [_rescue(e, symbols, domains) for e in dict.fromkeys((form, expr))]

    def block(arrays, out):
        # each test is one pass and a reduction in the common case (every row valid, none nan)
        bad = [a for (name, ok), a in zip(checks, arrays) if not ok(a).all()]
        good = np.logical_and.reduce([ok(a) for (name, ok), a in zip(checks, arrays)]) if bad else True
        with np.errstate(all="ignore"):
            out[...] = f(*arrays)
            edges.fill(arrays, out)
            unknown = np.isnan(out.sum())
        if unknown:
            for i in map(tuple, np.argwhere(np.isnan(out) & good)):
                out[i] = _rescued(rescues, [a[i] for a in arrays])
        if bad:
            out[~good] = np.nan

    def evaluate(*args):
        arrays = np.broadcast_arrays(*[np.asarray(a, dtype=float) for a in args])
        if validate:
            for (name, ok), a in zip(checks, arrays):
                invalid = ~ok(a)
                if np.any(invalid):
                    raise ValueError(f"{name} is outside its domain at {np.flatnonzero(invalid)[:5].tolist()}")
        out = np.empty(arrays[0].shape if arrays else ())
        in_blocks(block, arrays, out)
        return out[()] if out.ndim == 0 else out

    evaluate.expr, evaluate.large, evaluate.near, evaluate.domains = form, large, switch, domains
    return evaluate


def _rescue(expr: sp.Expr, symbols: tuple, domains: dict):
    """expr in mpmath for a float row that came out nan: no longer a series than the float sum takes, no Meijer
    G past HYPER_MAXPREC bits."""
    from .series import MAX_TERMS
    return mpmath_function(expr, symbols, domains, max_terms=MAX_TERMS, maxprec=HYPER_MAXPREC)


RESCUE_OPS = 1e4  # a row evaluated in mpmath costs about as much as this many float operations on every row


def _rescuing(fn, rescues):
    """fn with its nan rows rescued by ``rescues()`` (called only when there is one), as numpy_function does: what
    a form is worth is measured that way (a form whose terms overflow at kappa = 1e7 and is exact in mpmath there
    beats one that cancels in floats); the rows rescued are counted (``count``), for their cost."""
    def evaluate(*arrays):
        with np.errstate(all="ignore"):
            out = np.asarray(fn(*arrays), dtype=float) * np.ones(np.shape(arrays[0]))
        missing = np.flatnonzero(np.isnan(out))
        evaluate.count[0] += len(missing)
        functions = rescues() if len(missing) else []
        for i in missing:
            out[i] = _rescued(functions, [a[i] for a in arrays])
        return out
    evaluate.count = [0]
    return evaluate


RESCUE_PRECISIONS = (30, 60, 120, 240)
FLOAT_AGREED = mpmath.mpf(2) ** -60  # well within a float's rounding


def _rescued(rescues: list, row: list) -> float:
    """The first rescue's value at a row as a float, taken at rising precision until two agree to float's
    digits (maxwell||moyal's erfcx form at scale_q = 1e-6 cancels 1e-25 of its size: at 30 digits it read
    -5.7e717780 for 3.4e717737); nan if none settles (a series too long to sum)."""
    for exact in rescues:
        previous = None
        for dps in RESCUE_PRECISIONS:
            try:
                value = exact(*row, dps=dps)
            except (ValueError, ZeroDivisionError, mpmath.libmp.NoConvergence):
                break
            # 0 at two precisions may be a cancellation both lost (log(exp(200) + 1) - 200): 0 only at the last
            settled = previous is not None and _agree(previous, value, FLOAT_AGREED, 0)
            if settled and (value != 0 or dps == RESCUE_PRECISIONS[-1]):
                return _float(value)
            previous = value
    return np.nan


def _float(value) -> float:
    """An mpmath value as a float: beyond the float range, the infinity of its sign; nan if mpmath found none."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return np.nan


BLOCK_ROWS = 1 << 16
_POOL: list = []


def in_blocks(block, arrays: list, out: np.ndarray) -> None:
    """block(arrays, out) on slices of BLOCK_ROWS along the first axis, in a thread pool: numpy and
    scipy.special loops release the GIL, so the cores share the work, and each block's temporaries stay in cache."""
    rows = out.shape[0] if out.ndim else 0
    if rows < 2 * BLOCK_ROWS:
        block(arrays, out)
        return
    if not _POOL:
        _POOL.append(ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="symkl"))
    slices = [slice(i, i + BLOCK_ROWS) for i in range(0, rows, BLOCK_ROWS)]
    for done in _POOL[0].map(lambda s: block([a[s] for a in arrays], out[s]), slices):
        pass


DOMAIN_CHECKS = {
    "real": np.isfinite, "positive": lambda a: a > 0, "unit": lambda a: (a >= 0) & (a <= 1),
    "unit_open": lambda a: (a > 0) & (a < 1), "unit_left_open": lambda a: (a > 0) & (a <= 1),
    "posint": lambda a: (a >= 1) & (a == np.round(a)),
}


def mpmath_function(expr: sp.Expr, symbols: tuple, domains: dict | None = None, **limits):
    """A scalar function of ``symbols`` evaluated with mpmath at ``dps`` digits (0 log 0 = 0 at the edges);
    ``limits`` as mpmath_lambda's."""
    f = mpmath_lambda(symbols, expr, **limits)
    edges = Edges(expr, symbols, domains or {})

    def evaluate(*args, dps: int = 50):
        with mpmath.workdps(dps):
            g = edges.mpmath_form(args, **limits) or f
            return +g(*[a if isinstance(a, mpmath.mpf) or s.is_integer else mpmath.mpf(a)
                        for s, a in zip(symbols, args)])
    return evaluate




HELPERS = {phi: ["phi_numpy"], expm1x: ["expm1x_numpy"],
           logbesseli0: ["LOG_I0_SERIES_BELOW", "LOG_I0_TERMS", "logbesseli0_numpy"],
           lgamma_rem: ["_LGAMMA_SERIES", "_ASYMPTOTIC_FROM", "_remainder", "lgamma_rem_numpy"],
           digamma_rem: ["_DIGAMMA_SERIES", "_ASYMPTOTIC_FROM", "_remainder", "digamma_rem_numpy"]}


SCIPY_CALLS = {gammainc_lower: "scipy.special.gammainc({}, {})", gammainc_upper: "scipy.special.gammaincc({}, {})",
               delta: "({} - {})", erfcx: "scipy.special.erfcx({})", softplus: "numpy.logaddexp(0.0, {})",
               besselie: "scipy.special.ive({}, {})"}  # numeric's own functions, in the printed code


def python_source(result) -> str:
    """Readable numpy code for a result's numeric form: common subexpressions hoisted, scipy.special names, and
    the well-conditioned helpers it calls copied from this module (one implementation, not a second)."""
    import inspect

    class Printer(PowerPrinter):
        def _print_polygamma(self, e):
            order, x = e.args
            return f"scipy.special.psi({self._print(x)})" if order == 0 else \
                f"scipy.special.polygamma({self._print(order)}, {self._print(x)})"

        def _print_loggamma(self, e):
            return f"scipy.special.gammaln({self._print(e.args[0])})"

        def _print_Function(self, e):
            args = [self._print(a) for a in e.args]
            if type(e) in HELPERS:
                return f"{HELPERS[type(e)][-1]}({', '.join(args)})"
            if type(e) in SCIPY_CALLS:
                return SCIPY_CALLS[type(e)].format(*args)
            return super()._print_Function(e)

    f = result.numeric()
    printer = Printer({"fully_qualified_modules": True})
    replacements, (reduced,) = sp.cse(f.expr, symbols=sp.numbered_symbols("t"))
    args = ", ".join(s.name for s in result.symbols)
    lines = ["import numpy", "import scipy.constants", "import scipy.special", "", ""]
    names = list(dict.fromkeys(name for fn, used in HELPERS.items() if f.expr.has(fn) for name in used))
    for name in names:
        value = globals()[name]
        text = inspect.getsource(value) if callable(value) else f"{name} = {value!r}\n"
        lines += [text.replace("np.", "numpy.").replace("special.", "scipy.special."), ""]
    lines += [f"def {result.quantity}({args}):", f'    """{result.title} in {result.unit}."""']
    lines += [f"    {sym} = {printer.doprint(e)}" for sym, e in replacements]
    lines.append(f"    return {printer.doprint(reduced)}")
    if f.near is not None:
        lines.append(f"# symkl's own function switches to another form where this value is below {f.near[1]:g}"
                     f" (Q next to P): {f.near[0]}")
    return "\n".join(lines)


serialize.allow(phi, delta, expm1x, erfcx, besselie, logbesseli0, softplus, lgamma_rem, digamma_rem, gammainc_lower,
                gammainc_upper, sp.lowergamma, sp.uppergamma, cfunctions.log1p,
                cfunctions.expm1)  # chosen forms are cached on disk
