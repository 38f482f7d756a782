"""Calculus shared by the identities of ``symkl.ml``: gradients, stationary points, definiteness of a Hessian,
and digits of agreement between a closed form and a high-precision number.

A statement is "proven" only when sympy decides it under the parameters' assumptions; otherwise it is checked
at sampled parameter points and said to be so ("at N sampled points"), never called proven.
"""
from __future__ import annotations

import random
from functools import partial

import mpmath
import sympy as sp

from ..budget import attempt
from ..family import sample_value
from ..numeric import mpmath_lambda
from ..proof import _zero
from ..result import substitute

SOLVE_SECONDS = 20.0
FORMS_SECONDS = 60.0
"""simplify's budget for a form to show: continuousbernoulli's Fisher entries take 8 to 11 s each here, and a form
that runs out shows another way, which would make the book depend on the machine's speed."""
PROVEN, SAMPLED, FAILED, UNDECIDED = "proven", "at sampled points", "failed", "not decided"


def vanishes(expr: sp.Expr) -> str:
    """proven when expr simplifies to 0; numerically confirmed (30 digits at random points) or failed otherwise."""
    return _zero(expr)


def gradient(expr: sp.Expr, variables) -> list[sp.Expr]:
    return [sp.diff(expr, v) for v in variables]


def hessian(expr: sp.Expr, variables) -> sp.Matrix:
    return sp.Matrix(len(variables), len(variables), lambda i, j: sp.diff(expr, variables[i], variables[j]))


def tidy(expr: sp.Expr, identities: dict | None = None) -> sp.Expr:
    """The shortest of the equal forms ``forms`` gives."""
    return min(forms(expr, identities), key=sp.count_ops)


def forms(expr: sp.Expr, identities: dict | None = None) -> list[sp.Expr]:
    """Equal forms of a parameter expression: simplified (within FORMS_SECONDS), factored, collected by its
    special functions, and under identities such as p1 + p2 + p3 = 1 each symbol eliminated in turn (1 - p1 - p2
    read back as p3 where it appears)."""
    expr = sp.sympify(expr)  # safe: a derived expr
    expr = sp.factor_terms(attempt(FORMS_SECONDS, "simplification", partial(sp.simplify, expr)) or expr)
    out = [expr, sp.factor(expr), _collected(expr)]
    for total, value in (identities or {}).items():
        for s in sp.Add.make_args(total):
            other = value - (total - s)
            reduced = sp.factor_terms(sp.simplify(expr.subs(s, other)))
            out += [reduced, sp.factor_terms(reduced.subs({other: s, -other: -s}))]
    return out


def _collected(expr: sp.Expr) -> sp.Expr:
    """expr as its special functions (and their products) each times one factored coefficient: studentt's
    F_df as (trigamma(df/2) - trigamma((df + 1)/2))/4 - (df + 5)/(2 df (df + 1)(df + 3)), not one fraction."""
    functions = sorted((f for f in expr.atoms(sp.Function) if f.free_symbols), key=sp.default_sort_key)
    if not functions:
        return expr
    parts = sp.collect(sp.expand(expr), functions, evaluate=False)
    return sp.Add(*[sp.factor(sp.cancel(coeff)) * term for term, coeff in parts.items()])


def solve_stationary(equations: list, variables: list, domains: dict, sampler=None) -> list[dict] | None:
    """The solutions of grad = 0 that lie in the variables' domains (a sigma > 0 drops -sqrt(...)); None when
    sympy finds no closed form within its time budget. ``sampler()`` gives parameter points for domain checks
    that assumptions alone do not decide."""
    try:
        found = attempt(SOLVE_SECONDS, "solving the stationarity equations",
                        lambda: sp.solve(equations, variables, dict=True))
    except (NotImplementedError, ValueError, TypeError):
        return None
    if not found:
        return None
    kept = [s for s in found if set(s) >= set(variables) and all(_in_domain(s[v], domains[v], sampler)
                                                                  for v in variables)]
    return kept or None


def _in_domain(value: sp.Expr, domain: str, sampler) -> bool:
    if value.has(sp.I) and value.is_real is not True:
        return False
    need_positive = domain != "real"
    if need_positive and value.is_positive is False:
        return False
    if sampler is None or not value.free_symbols:
        return True
    for point in sampler():
        v = sp.N(substitute(value, point), 30)
        if not v.is_real or (need_positive and v <= 0) or (domain.startswith("unit") and v > 1):
            return False
    return True


def definiteness(matrix: sp.Matrix, sign: int = 1, sampler=None, identities: dict | None = None) -> tuple[str, list]:
    """Whether sign*matrix is positive definite, by its leading principal minors: (status, minors).

    proven when sympy decides every minor positive under the assumptions; "at sampled points" when the minors
    are positive at every point ``sampler()`` gives; failed when one is not.
    """
    minors = [forms((sign * matrix[:k, :k]).det(), identities) for k in range(1, matrix.shape[0] + 1)]
    if all(any(f.is_positive for f in m) for m in minors):
        return PROVEN, [min((f for f in m if f.is_positive), key=sp.count_ops) for m in minors]
    minors = [min(m, key=sp.count_ops) for m in minors]
    if sampler is None:
        return UNDECIDED, minors
    for point in sampler():
        values = [sp.N(substitute(m, point), 30) for m in minors]
        if not all(v.is_real and v > 0 for v in values):
            return FAILED, minors
    return SAMPLED, minors


def sampler_for(symbols, domains: dict, n: int = 4, seed: int = 0, identities: dict | None = None):
    """A function giving n parameter points (exact values in each symbol's domain), the same ones every call;
    a categorical's probabilities are normalized to sum to 1."""
    def points():
        rng = random.Random(seed)
        out = []
        for _ in range(n):
            point = {s: sample_value(domains.get(s, "real"), rng) for s in symbols}
            out.append(normalized(point, identities))
        return out
    return points


def normalized(point: dict, identities: dict | None) -> dict:
    """Scale the symbols of each identity sum(p) = 1 so that their values sum to 1."""
    for total in (identities or {}):
        names = [s for s in sp.Add.make_args(total) if s in point]
        if len(names) == len(sp.Add.make_args(total)):
            mass = sum(point[s] for s in names)
            point.update({s: point[s] / mass for s in names})
    return point


def digits(a, b, dps: int = 50) -> float:
    """Decimal digits to which a and b agree, relative to |b| (absolute near 0), at most dps."""
    with mpmath.workdps(dps + 10):
        a, b = mpmath.mpf(a), mpmath.mpf(b)
        gap = abs(a - b) / max(abs(b), mpmath.mpf(1) if abs(b) < 1e-30 else abs(b))
        return float(dps) if gap == 0 else float(min(dps, -mpmath.log10(gap)))


def number(expr, dps: int = 50):
    """An exact or float sympy number as an mpf at dps digits."""
    if isinstance(expr, sp.Basic) and expr.has(sp.Sum):  # a series, summed outward from its largest term
        with mpmath.workdps(dps + 10):
            return mpmath.mpf(mpmath_lambda((), expr)())
    value = sp.N(expr, dps + 10)
    if not value.is_real:
        raise ValueError(f"expected a real number, got {expr}")
    with mpmath.workdps(dps + 10):
        return mpmath.mpf(sp.Float(value, dps + 10)._mpf_)
