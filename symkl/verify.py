"""Judging a person's formula or number against the derived result, and naming the usual mistakes.

A formula is EQUIVALENT when the difference simplifies to 0 (proven), or agrees to 30 digits at random points
over the whole parameter space, edges included (numerically); otherwise it is WRONG, with a point where the two
differ and, where one fits, a diagnosis: direction swapped, an additive constant, a factor (bits vs nats
included), the symmetrised KL, or a formula that holds only when some parameters of P and Q are equal (one pair,
or two pairs together).
"""
from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field

import mpmath
import sympy as sp

from .family import sample_value
from .parse import ParseError, parse_expression
from .proof import _zero
from .result import Result, roles, substitute

DIGITS = 30


@dataclass
class Verdict:
    """EQUIVALENT (proven or numerically) or WRONG, with the evidence and a diagnosis."""

    status: str
    how: str
    point: dict = field(default_factory=dict)
    truth: str = ""
    claimed: str = ""
    diagnosis: str = ""

    @property
    def equivalent(self) -> bool:
        return self.status == "EQUIVALENT"

    def to_json(self) -> dict:
        return {"verdict": self.status, "how": self.how, "point": {k: str(v) for k, v in self.point.items()},
                "truth": self.truth, "claimed": self.claimed, "diagnosis": self.diagnosis}


def parse_claim(result: Result, claim: str, where: list[str] = ()) -> sp.Expr:
    """The claim as sympy, in the result's parameter names and the names defined by ``where`` ("lv = ...")."""
    names = {s.name: s for s in result.symbols}
    for definition in where:
        name, sep, text = definition.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier() or name.startswith("_"):
            raise ParseError(f"--where needs the form 'name = expression', got {definition!r}")
        names[name] = parse_expression(text, names)
    return parse_expression(claim, names)


def verify(result: Result, claim: str, where: list[str] = (), swapped: Result | None = None) -> Verdict:
    """Judge ``claim`` (formula or number) against ``result``; ``swapped`` is the reverse KL, for diagnosis."""
    if result.expr is None:
        raise ValueError(f"{result.title}: no closed form was found, so there is nothing to compare a formula with")
    if any(isinstance(s, sp.MatrixSymbol) for s in result.symbols):
        raise ValueError(f"{result.title} is in matrix symbols: state the claim at a fixed dimension, "
                         f"as in mvnormal[2]")
    expr = parse_claim(result, claim, where)
    if not expr.free_symbols and not (result.expr.free_symbols & set(result.symbols)):
        return _judge_number(result, expr, claim)
    unknown = expr.free_symbols - set(result.symbols)
    if unknown:
        raise ParseError(f"unknown names {sorted(map(str, unknown))}; allowed: "
                         f"{', '.join(s.name for s in result.symbols)}")
    truth = _finite_branch(result.expr)
    if _simplified_to_zero(truth - expr):
        return Verdict("EQUIVALENT", "proven: the difference simplifies to 0 under the parameters' assumptions")
    points = _points(result, 12)
    for point in points:
        t, c = _value(truth, point), _value(expr, point)
        if t is None or c is None or abs(t - c) > mpmath.mpf(10) ** (-DIGITS) * max(1, abs(t)):
            diagnosis = _diagnose(result, truth, expr, points, swapped)
            return Verdict("WRONG", "the claim and the derived result differ", point,
                           mpmath.nstr(t, 15) if t is not None else "undefined",
                           mpmath.nstr(c, 15) if c is not None else "undefined", diagnosis)
    return Verdict("EQUIVALENT", f"numerically: agrees to {DIGITS}+ digits at {len(points)} random points "
                                 f"(simplification did not reach 0)")


def _simplified_to_zero(diff) -> bool:
    """The difference is 0 symbolically (recurrences such as digamma(a + 1) = digamma(a) + 1/a expanded)."""
    diff = sp.expand(sp.expand_log(sp.expand_func(diff), force=True))
    return diff == 0 or sp.simplify(diff) == 0


def _finite_branch(expr):
    """The finite branch of a conditional result (claims are about where the result is finite)."""
    if isinstance(expr, sp.Piecewise):
        finite = [e for e, _ in expr.args if not e.is_infinite]
        return finite[0] if len(finite) == 1 else expr
    return expr


def _judge_number(result: Result, claimed: sp.Expr, text: str) -> Verdict:
    """A number is judged to the precision it was written with: 0.1838 is right for 0.18379, 0.1526 is not."""
    truth = result.value(40)
    decimals = len(text.strip().split(".")[1].split("e")[0]) if "." in text else 0
    tolerance = mpmath.mpf(5) * mpmath.mpf(10) ** (-decimals - 1)
    with mpmath.workdps(40):
        c = mpmath.mpf(sp.Float(claimed, 40))
        nats = truth * (mpmath.log(2) if result.base == "2" else 1)
        shown = f"{mpmath.nstr(nats, 12)} nats = {mpmath.nstr(nats / mpmath.log(2), 12)} bits"
        if abs(c - truth) <= tolerance:
            return Verdict("EQUIVALENT", f"to the {decimals} decimals given", truth=shown, claimed=text)
        diagnosis = ""
        if abs(c - truth / mpmath.log(2)) <= tolerance or abs(c - truth * mpmath.log(2)) <= tolerance:
            diagnosis = "the number is in the other unit (bits vs nats)"
    return Verdict("WRONG", f"differs from the true value beyond the {decimals} decimals given", truth=shown,
                   claimed=text, diagnosis=diagnosis)


def _points(result: Result, n: int) -> list[dict]:
    """Random points over the whole parameter space, some near its edges, where the result is finite."""
    rng = random.Random(0)
    domains = result.domains()
    points = []
    for attempt in range(50 * n):
        edge = attempt % 3 == 2
        point = {s: sample_value(domains[s], rng, edge) for s in result.symbols}
        if not _allowed(result, point):
            continue
        value = _value(result.expr, point)
        if value is not None and mpmath.isfinite(value):
            points.append(point)
            if len(points) == n:
                break
    return points


def _allowed(result: Result, point: dict) -> bool:
    """Whether the point meets each family's relations too (low < high, a positive definite covariance)."""
    for inst, suffix in roles(result.p, result.q):
        subs = inst.substitutions(suffix)
        values = {p.name: point[s] for p in inst.family.params if (s := subs.get(p.symbol(suffix), p.symbol(suffix)))
                  in point}
        if inst.family.violations(values):
            return False
    return True


def _value(expr, point):
    value = substitute(expr, point)
    try:
        number = sp.N(value, DIGITS + 10)
    except (TypeError, ValueError):
        return None
    if not number.is_number or not number.is_real:
        return None
    return mpmath.inf if number == sp.oo else (-mpmath.inf if number == -sp.oo else
                                                mpmath.mpf(sp.Float(number, DIGITS + 10)._mpf_))


def _diagnose(result, truth, claim, points, swapped) -> str:
    """The first usual mistake that explains the difference at every sampled point, or ''."""
    def matches(candidate) -> bool:
        for point in points[:6]:
            a, b = _value(candidate, point), _value(claim, point)
            if a is None or b is None or abs(a - b) > mpmath.mpf(10) ** (-20) * max(1, abs(a)):
                return False
        return True

    checks = []
    if swapped is not None and swapped.expr is not None:
        reverse = _finite_branch(swapped.expr).xreplace(_swap_roles(result.symbols))
        checks += [(reverse, "the direction is swapped: the claim equals KL(Q||P), not KL(P||Q)"),
                   (truth + reverse, "the claim is the symmetrised KL(P||Q) + KL(Q||P)")]
    checks += [(2 * truth, "a factor is off: the claim is twice the result"),
               (truth / 2, "a factor is off: the claim is half the result"),
               (truth / sp.log(2), "the claim is in bits where nats are meant (log base 2)"),
               (truth / sp.log(10), "the claim uses log base 10 where nats are meant")]
    for candidate, text in checks:
        if matches(candidate):
            return text
    offsets = {str(sp.nsimplify(float(_value(claim - truth, p)), [sp.log(2), sp.pi], tolerance=1e-12))
               for p in points[:6] if _value(claim - truth, p) is not None}
    if len(offsets) == 1:
        return f"an additive constant is off: the claim is the result + {offsets.pop()}"
    same_family = result.q is not None and result.p.family is result.q.family
    return _restriction(result.symbols, truth - claim, same_family)


def _restriction(symbols, difference, same_family: bool) -> str:
    """The fewest equalities of P's and Q's parameters (one, else two together) under which the difference
    vanishes: a claim right only for equal locations, or only for equal locations and equal scales."""
    pairs = _pairs(symbols)
    for size in (1, 2):
        for chosen in itertools.combinations(pairs, size):
            if _zero(difference.subs({q_sym: p_sym for p_sym, q_sym in chosen})) != "failed":
                where = " and ".join(f"{q_sym} = {p_sym}" for p_sym, q_sym in chosen)
                everywhere = same_family and 2 * len(chosen) == len(symbols)
                return f"the claim holds only when {where}" + (", that is only where P = Q" if everywhere else "")
    return ""


def _pairs(symbols):
    names = {s.name: s for s in symbols}
    return [(names[n[:-2] + "_p"], s) for n, s in names.items() if n.endswith("_q") and n[:-2] + "_p" in names]


def _swap_roles(symbols) -> dict:
    """In KL(Q||P), Q's parameters play P's role: rename x_p <-> x_q."""
    out = {}
    for p, q in _pairs(symbols):
        out[p], out[q] = q, p
    return out
