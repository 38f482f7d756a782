"""Support analysis: where P puts mass that Q does not, KL is oo; decided from the declared supports alone."""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .family import Family


@dataclass(frozen=True)
class Containment:
    """Whether supp(P) is inside supp(Q) (up to measure zero): a condition, and why it can fail."""

    condition: sp.Boolean
    reason: str


def bounds(support: sp.Set) -> tuple[sp.Expr, sp.Expr]:
    """Lowest and highest points of a support (an interval, a range of integers, a finite set)."""
    if isinstance(support, sp.Range):
        return support.start, support.stop - 1
    return support.inf, support.sup


def containment(fp: Family, p_params: tuple, fq: Family, q_params: tuple) -> Containment:
    """The condition for P << Q, and a sentence naming the region where P has mass and Q has none."""
    P, Q = f"P = {fp.label}", f"Q = {fq.label}"
    if fp.dim is not None:
        sp_p, sp_q = fp.support(*p_params), fq.support(*q_params)
        if sp_p == sp_q:
            return Containment(sp.true, "")
        return Containment(sp.false, f"{P} lives on {describe(sp_p)} and {Q} on {describe(sp_q)}: Q gives no mass "
                                     f"to a set where P has mass, so P and Q are mutually singular or P is not "
                                     f"absolutely continuous with respect to Q")
    if fp.discrete != fq.discrete:
        kind = "points (atoms)" if fp.discrete else "a density on intervals"
        return Containment(sp.false, f"{P} has {kind} that {Q} gives no mass to: P and Q are mutually singular")
    (lo_p, hi_p), (lo_q, hi_q) = bounds(fp.support(*p_params)), bounds(fq.support(*q_params))
    checks = [(sp.Ge(lo_p, lo_q), _region(lo_p, lo_q, fp.discrete, below=True)),
              (sp.Le(hi_p, hi_q), _region(hi_q, hi_p, fp.discrete, below=False))]
    condition = sp.And(*[c for c, _ in checks])
    failing = [text for c, text in checks if c is not sp.true]
    if condition is sp.true:
        return Containment(sp.true, "")
    verb = ("has no mass on" if condition is sp.false
            else f"finite only when {_show(condition)}; otherwise it has no mass on")
    return Containment(condition, f"{Q} {verb} {' and '.join(failing)} where {P} has")


def _region(start, end, discrete: bool, below: bool) -> str:
    """The gap between the two supports, in the notation users expect for each kind of support."""
    if discrete:
        first, last = (start, end - 1) if below else (start + 1, end)
        if first == last:
            return "{" + f"{first}" + "}"
        return "{" + (f"{first}, ..., {last}" if last != sp.oo else f"{first}, {first + 1}, ...") + "}"
    return f"({start}, {end})"


def _show(condition: sp.Boolean) -> str:
    return " and ".join(sorted(str(c) for c in sp.And.make_args(condition)))


def describe(support: sp.Set) -> str:
    """A support as users write it: R^3, (0, 1), {x in (0, 1)^3 : x1 + x2 + x3 = 1}."""
    if isinstance(support, sp.ConditionSet):
        cond = support.condition
        shown = f"{cond.lhs} = {cond.rhs}" if isinstance(cond, sp.Eq) else str(cond)
        return f"{{x in {describe(support.base_set)} : {shown}}}"
    if isinstance(support, sp.ProductSet) and len(set(support.sets)) == 1:
        return f"{describe(support.sets[0])}^{len(support.sets)}"
    if support == sp.S.Reals:
        return "R"
    if isinstance(support, sp.Interval):
        return f"{'(' if support.left_open else '['}{support.inf}, {support.sup}{')' if support.right_open else ']'}"
    return str(support)
