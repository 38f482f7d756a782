"""Numeric functions of results: vectorized float64 (numpy, scipy.special) or mpmath at any precision.

A formula right on paper can lose every digit in floats where P is close to Q: log(a/b) and the terms it
cancels against are both ~1 while KL is ~1e-20. Each c*log(u) with u = 1 on the diagonal is rewritten as
c*((u - 1) - phi(u - 1)), phi(t) = t - log1p(t) >= 0, and the linear parts are cancelled symbolically; the
candidate forms are then measured against mpmath at sampled points (general and near-diagonal) and the most
accurate one is kept, as Herbie does.
"""
from __future__ import annotations

import itertools
import random

import mpmath
import numpy as np
import sympy as sp
from scipy import special

from .budget import attempt



class phi(sp.Function):
    """phi(t) = t - log(1 + t): the non-negative, well-conditioned core of log-ratio terms near t = 0."""

    def _eval_rewrite_as_log(self, t, **kwargs):
        return t - sp.log(1 + t)

    def fdiff(self, argindex=1):
        t = self.args[0]
        return t / (1 + t)


class expm1x(sp.Function):
    """expm1x(a) = exp(a) - 1 - a: the well-conditioned core of exponential terms near a = 0."""

    def _eval_rewrite_as_exp(self, a, **kwargs):
        return sp.exp(a) - 1 - a

    def fdiff(self, argindex=1):
        return sp.exp(self.args[0]) - 1


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


def phi_numpy(t):
    """t - log1p(t) in float64: log1p where |t| >= 0.1, else its series t**2*(1/2 - t/3 + ...) by Horner."""
    t = np.asarray(t, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.array(t - np.log1p(t), dtype=float)
    small = np.flatnonzero(np.abs(t) < 0.1)
    if small.size:
        ts = t.reshape(-1)[small]
        acc = np.full_like(ts, 1.0 / 17)
        for k in range(16, 1, -1):
            acc *= -ts
            acc += 1.0 / k
        out.reshape(-1)[small] = ts * ts * acc
    return out[()] if out.ndim == 0 else out


def phi_mpmath(t):
    return t - mpmath.log1p(t)


def _polygamma(n, x):
    return special.psi(x) if np.all(np.asarray(n) == 0) else special.polygamma(n, x)


NUMPY_MODULES = [{"phi": phi_numpy, "expm1x": expm1x_numpy, "loggamma": special.gammaln, "polygamma": _polygamma,
                  "erf": special.erf, "lowergamma": lambda a, x: special.gammainc(a, x) * special.gamma(a),
                  "uppergamma": lambda a, x: special.gammaincc(a, x) * special.gamma(a)}, "scipy", "numpy"]
MPMATH_MODULES = [{"phi": phi_mpmath, "expm1x": lambda a: mpmath.expm1(a) - a}, "mpmath"]


def stable_forms(expr: sp.Expr, symbols: tuple, identities: dict | None = None) -> list[sp.Expr]:
    """Candidate forms of expr with the log terms that vanish on the diagonal written through phi
    (``identities``, such as p1 + ... + pK = 1, cancel what the linear parts leave)."""
    if isinstance(expr, sp.Piecewise):
        branches = [stable_forms(e, symbols, identities) for e, _ in expr.args]
        return [sp.Piecewise(*[(forms[min(i, len(forms) - 1)], c) for forms, (_, c) in zip(branches, expr.args)])
                for i in range(max(map(len, branches)))]
    diagonal = _diagonal(symbols)
    terms = sp.Add.make_args(expr)
    logs = [(t, c, lg) for t in terms for c, lg in [t.as_independent(sp.log, as_Add=False)]
            if isinstance(lg, sp.log) and not c.has(sp.log) and sp.simplify(lg.args[0].subs(diagonal)) == 1]
    if not logs or not diagonal:
        return [expr]
    rest = sp.Add(*[t for t in terms if t not in {t for t, _, _ in logs}])
    powers = (1, -1, 2, -2) if len(logs) <= 4 else (1, -1)
    candidates = []
    for choice in itertools.product(powers, repeat=len(logs)):
        linear, cores = rest, []
        for (_, c, lg), k in zip(logs, choice):
            t = sp.factor(lg.args[0] ** k - 1)
            linear += c * t / k
            cores.append(-c / k * phi(t))
        linear = sp.factor(_split_exponentials(sp.expand(linear), diagonal).subs(identities or {}))
        candidates.append((sp.count_ops(linear), linear, cores))
    candidates.sort(key=lambda item: item[0])
    return [expr] + [sp.Add(linear, *cores) for _, linear, cores in candidates[:3]]


def _split_exponentials(expr: sp.Expr, diagonal: dict) -> sp.Expr:
    """exp(a) -> 1 + a + expm1x(a) where a vanishes on the diagonal, so that the 1 + a parts cancel exactly."""
    vanishing = [e for e in expr.atoms(sp.exp) if sp.simplify(e.args[0].subs(diagonal)) == 0]
    if not vanishing:
        return expr
    return sp.expand(expr.xreplace({e: 1 + e.args[0] + expm1x(e.args[0]) for e in vanishing}))


def _diagonal(symbols) -> dict:
    """Q's parameters -> P's: the substitution that makes P and Q equal (when the names pair up)."""
    names = {s.name: s for s in symbols}
    return {names[n]: names[n[:-2] + "_p"] for n in names if n.endswith("_q") and n[:-2] + "_p" in names}


def sample_points(symbols: tuple, domains: dict, rng: random.Random, n: int = 40,
                  identities: dict | None = None) -> list[tuple]:
    """Float parameter points: half general, half near the diagonal (Q = P(1 + d), d from 1e-12 to 0.2);
    groups bound by an identity (p1 + ... + pK = 1) are normalized."""
    diagonal = _diagonal(symbols)
    points = []
    for i in range(n):
        values = {s: _draw(domains[s], rng) for s in symbols}
        _normalize(values, identities)
        if i % 2 and diagonal:
            scale = 10 ** rng.uniform(-12, -0.7)
            for q, p in diagonal.items():
                values[q] = values[p] if q.is_integer else values[p] * (1 + scale * rng.uniform(-1, 1))
            _normalize(values, identities)
        points.append(tuple(values[s] for s in symbols))
    return points


def _normalize(values: dict, identities: dict | None) -> None:
    """Make each group bound by an identity (p1 + ... + pK = 1) sum to exactly 1 in float64: multiples of 2**-52
    below 1 add without rounding, so the last member is 1 minus the others, exactly."""
    for group in identities or {}:
        members = [s for s in sorted(group.args, key=str) if s in values]
        total = sum(values[s] for s in members)
        for s in members[:-1]:
            values[s] = round(values[s] / total * 2.0**52) / 2.0**52
        values[members[-1]] = 1.0 - sum(values[s] for s in members[:-1])


def _draw(domain: str, rng: random.Random) -> float:
    if domain == "posint":
        return float(rng.randint(1, 20))
    if domain.startswith("unit"):
        return rng.uniform(0.05, 0.95)
    return 10 ** rng.uniform(-1, 1.5) if domain == "positive" else rng.uniform(-5, 5)


def _truth(reference, symbols, points) -> list:
    """The reference expression at each float point, at 50 digits (mpmath)."""
    f = sp.lambdify(symbols, reference, modules=MPMATH_MODULES)
    with mpmath.workdps(50):
        return [f(*[mpmath.mpf(v) for v in point]) for point in points]


def _errors(fn, truth, points) -> list[float]:
    """|fn(x) - truth|/|truth| at each point (inf where a finite value is missing)."""
    with np.errstate(all="ignore"):
        got = np.asarray(fn(*np.array(points, dtype=float).T), dtype=float) * np.ones(len(points))
    out = []
    with mpmath.workdps(50):
        for value, exact in zip(got, truth):
            if not mpmath.isfinite(exact):
                out.append(0.0 if value == float(exact) else np.inf)
            elif not np.isfinite(value):
                out.append(np.inf)
            else:
                out.append(float(abs(mpmath.mpf(value) - exact) / (abs(exact) or 1)))
    return out


def relative_errors(candidate, reference, symbols, points) -> list[float]:
    """|f(x) - truth|/|truth| at each point (the candidate in float64, the reference at 50 digits)."""
    return _errors(sp.lambdify(symbols, candidate, modules=NUMPY_MODULES), _truth(reference, symbols, points),
                   points)


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


def _near_diagonal(symbols, threshold):
    """A mask function: rows where every Q parameter is within ``threshold`` (relative) of P's."""
    index = {s: i for i, s in enumerate(symbols)}
    pairs = [(index[q], index[p]) for q, p in _diagonal(symbols).items()]

    def mask(arrays):
        near = np.ones(np.shape(arrays[0]), dtype=bool)
        for qi, pi in pairs:
            scale = np.abs(arrays[pi]) if symbols[pi].is_positive else np.maximum(np.abs(arrays[pi]), 1.0)
            near &= np.abs(arrays[qi] - arrays[pi]) <= threshold * scale
        return near
    return mask


def _hybrid(closed, series, mask):
    """closed(x) everywhere, series(x) on the rows the mask selects."""
    def evaluate(*arrays):
        arrays = np.broadcast_arrays(*[np.asarray(a, dtype=float) for a in arrays])
        with np.errstate(all="ignore"):
            out = np.array(closed(*arrays), dtype=float) * np.ones(arrays[0].shape)
            near = mask(arrays)
            if np.any(near):
                out[near] = series(*[a[near] for a in arrays])
        return out
    return evaluate


def best_function(expr: sp.Expr, symbols: tuple, domains: dict, identities: dict | None = None, seed: int = 0):
    """The most accurate float64 function: each stable form alone, or switched to the diagonal series below a
    threshold, all measured at the same sampled points; among those within a factor 4 of the most accurate
    (or below 1e-14), the one with the fewest operations. Returns (function, form, (series, threshold) or None)."""
    points = sample_points(symbols, domains, random.Random(seed), n=60, identities=identities)
    truth = _truth(expr, symbols, points)
    forms = [(form, sp.lambdify(symbols, form, modules=NUMPY_MODULES)) for form in stable_forms(expr, symbols,
                                                                                               identities)]
    scored = [(max(_errors(fn, truth, points)), sp.count_ops(form), fn, form, None) for form, fn in forms]
    series = diagonal_series(expr, symbols) if min(scored, key=lambda item: item[0])[0] > 1e-13 else None
    if series is not None:
        series_fn = sp.lambdify(symbols, series, modules=NUMPY_MODULES)
        for (form, fn), threshold in itertools.product(forms, (1e-2, 3e-2, 0.1, 0.2)):
            hybrid = _hybrid(fn, series_fn, _near_diagonal(symbols, threshold))
            scored.append((max(_errors(hybrid, truth, points)), sp.count_ops(form), hybrid, form,
                           (series, threshold)))
    good_enough = max(4 * min(item[0] for item in scored), 1e-14)
    return min((item for item in scored if item[0] <= good_enough), key=lambda item: item[1])[2:]


def numpy_function(expr: sp.Expr, symbols: tuple, domains: dict, identities: dict | None = None,
                   validate: bool = False):
    """A vectorized float64 function of ``symbols``: nan where a parameter is outside its domain
    (or ValueError naming it with validate=True)."""
    f, form, switch = best_function(expr, symbols, domains, identities)
    checks = [(s.name, DOMAIN_CHECKS[domains[s]]) for s in symbols]

    def evaluate(*args):
        arrays = np.broadcast_arrays(*[np.asarray(a, dtype=float) for a in args])
        bad = np.zeros(arrays[0].shape, dtype=bool) if arrays else False
        for (name, ok), a in zip(checks, arrays):
            invalid = ~ok(a)
            if validate and np.any(invalid):
                raise ValueError(f"{name} is outside its domain at {np.flatnonzero(invalid)[:5].tolist()}")
            bad = bad | invalid
        with np.errstate(all="ignore"):
            out = np.array(np.broadcast_to(np.asarray(f(*arrays), dtype=float), np.shape(bad)))
        out[np.asarray(bad)] = np.nan
        return out[()] if out.ndim == 0 else out

    evaluate.expr, evaluate.series = form, switch
    return evaluate


DOMAIN_CHECKS = {
    "real": np.isfinite, "positive": lambda a: a > 0, "unit": lambda a: (a >= 0) & (a <= 1),
    "unit_open": lambda a: (a > 0) & (a < 1), "unit_left_open": lambda a: (a > 0) & (a <= 1),
    "posint": lambda a: (a >= 1) & (a == np.round(a)),
}


def mpmath_function(expr: sp.Expr, symbols: tuple):
    """A scalar function of ``symbols`` evaluated with mpmath at ``dps`` digits."""
    f = sp.lambdify(symbols, expr, modules=MPMATH_MODULES)

    def evaluate(*args, dps: int = 50):
        with mpmath.workdps(dps):
            return +f(*[mpmath.mpf(a) if not isinstance(a, mpmath.mpf) else a for a in args])
    return evaluate




def python_source(result) -> str:
    """Readable numpy code for a result's numeric form: common subexpressions hoisted, scipy.special names."""
    from sympy.printing.numpy import SciPyPrinter

    class Printer(SciPyPrinter):
        def _print_polygamma(self, e):
            order, x = e.args
            return f"scipy.special.psi({self._print(x)})" if order == 0 else \
                f"scipy.special.polygamma({self._print(order)}, {self._print(x)})"

        def _print_loggamma(self, e):
            return f"scipy.special.gammaln({self._print(e.args[0])})"

        def _print_phi(self, e):
            return f"phi({self._print(e.args[0])})"

    f = result.numeric()
    printer = Printer({"fully_qualified_modules": True})
    replacements, (reduced,) = sp.cse(f.expr, symbols=sp.numbered_symbols("t"))
    args = ", ".join(s.name for s in result.symbols)
    lines = ["import numpy", "import scipy.special", "", "",
             "def phi(t):", '    """t - log1p(t), by its series where |t| < 0.1 (no cancellation)."""',
             "    t = numpy.asarray(t, dtype=float)", "    out = numpy.array(t - numpy.log1p(t))",
             "    small = numpy.abs(t) < 0.1", "    ts, acc = t[small], 0.0", "    for k in range(17, 1, -1):",
             "        acc = 1.0 / k - ts * acc", "    out[small] = ts * ts * acc", "    return out", "", "",
             f"def {result.quantity}({args}):", f'    """{result.title} in {result.unit}."""']
    lines += [f"    {sym} = {printer.doprint(e)}" for sym, e in replacements]
    lines.append(f"    return {printer.doprint(reduced)}")
    if f.series is not None:
        lines.append(f"# symkl's own function switches to the Taylor series about Q = P when every parameter of Q is"
                     f" within {f.series[1]:g} (relative) of P's")
    return "\n".join(lines)
