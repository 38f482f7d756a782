"""Entropy, cross-entropy and KL for a pair of families, derived from their declarations.

Each is derived once per pair of families with every parameter symbolic (P's suffixed _p, Q's _q); values in a
spec are substituted afterwards. Support analysis comes first: where P has mass that Q lacks, the result is oo.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from .expectation import NoClosedForm, Step, expect, finite_branch, infinities, simplest
from .family import Family, FamilyError
from .simplify import readable
from .support import bounds, containment
from .vector import coordinates, readable_matrix

QUANTITIES = ("kl", "entropy", "cross_entropy")
TITLES = {"kl": "KL(P||Q)", "entropy": "H(P)", "cross_entropy": "H(P, Q)", "expectation": "E(P)"}


@dataclass(frozen=True)
class Derivation:
    """A derived quantity for families (not values): the expression in nats, when it is finite, and the steps.

    ``expr`` is oo when infinite, a Piecewise ending in (oo, True) when finite only under ``condition``, and None
    when no closed form was found. ``status`` is one of closed, infinite, conditional, no-closed-form.
    """

    quantity: str
    p: str
    q: str | None
    expr: sp.Expr | None
    condition: sp.Boolean
    reason: str
    status: str
    steps: tuple[Step, ...] = field(default=())


def variable_for(*families: Family) -> sp.Symbol:
    """x with the assumptions that hold on the intersection of the supports (positive if any is >= 0); for a
    vector X, the coordinates of the family whose coordinates are positive, if any."""
    if families[0].discrete:
        return sp.Symbol("x", integer=True)
    if families[0].dim is not None:
        candidates = [f.variable() for f in families]
        return next((x for x in candidates if all(c.is_positive for c in coordinates(x))), candidates[0])
    positive = any(f.variable().is_positive for f in families)
    return sp.Symbol("x", positive=True) if positive else sp.Symbol("x", real=True)


def derive(quantity: str, fp: Family, fq: Family | None = None) -> Derivation:
    """Derive one quantity for the families fp (and fq) with every parameter symbolic."""
    if quantity == "entropy":
        params = fp.symbols()
        x = fp.variable()
        log_p = fp.log_density(x, *params)
        steps = [Step("log p(x)", log_p)]
        return _finish("entropy", fp, None, -log_p, params, x, sp.true, "", steps)
    if fp.dim != fq.dim:
        raise FamilyError(f"P = {fp.label} is a distribution of {_space(fp)} and Q = {fq.label} of {_space(fq)}: "
                          f"there is no KL or cross-entropy between distributions on different spaces")
    p_params, q_params = fp.symbols("_p"), fq.symbols("_q")
    inside = containment(fp, p_params, fq, q_params)
    x = variable_for(fp, fq)
    log_p, log_q = fp.log_density(x, *p_params), fq.log_density(x, *q_params)
    steps = [Step("log p(x)", log_p), Step("log q(x)", log_q),
             Step("supports", None, inside.reason or "supp P lies inside supp Q: the result is finite")]
    if inside.condition is sp.false:
        return Derivation(quantity, fp.label, fq.label, sp.oo, sp.false, inside.reason, "infinite", tuple(steps))
    if quantity == "kl":
        ratio = sp.expand(sp.expand_log(log_p - log_q))
        steps.append(Step("log p(x) - log q(x)", ratio, "the log-ratio, simplified as one expression"))
        integrand = ratio
    else:
        integrand = -log_q
    return _finish(quantity, fp, fq, integrand, p_params, x, inside.condition, inside.reason, steps)


def _no_closed_form(quantity, fp, q_label, condition, reason, steps, why: str) -> Derivation:
    """The derivation stops at the step no rule reached; its reason says which (after any support reason)."""
    steps.append(Step("no closed form", None, why))
    return Derivation(quantity, fp.label, q_label, None, condition, "; ".join(filter(None, [reason, why])),
                      "no-closed-form", tuple(steps))


def _finish(quantity, fp, fq, integrand, p_params, x, condition, reason, steps) -> Derivation:
    """Take E_P of the integrand, make it readable, and wrap it in the finiteness condition."""
    q_label = fq.label if fq else None
    try:
        value, term_steps = expect(fp, p_params, integrand, x, bounded_below=quantity != "entropy")
    except NoClosedForm as err:
        return _no_closed_form(quantity, fp, q_label, condition, reason, steps, str(err))
    steps += term_steps
    if infinities(value) - {sp.oo}:
        return _no_closed_form(quantity, fp, q_label, condition, reason, steps,
                               f"E_P of the terms diverges to -oo: {value}")
    value, finite_when = finite_branch(value)
    if finite_when is not sp.true:
        condition = simplest(sp.And(condition, finite_when))
        reason = "; ".join(filter(None, [reason, _divergence_reason(quantity, fp, term_steps, condition)]))
    if condition is sp.false:
        return Derivation(quantity, fp.label, q_label, sp.oo, sp.false, reason, "infinite", tuple(steps))
    if value.has(sp.sin, sp.cos):
        value = sp.trigsimp(value)  # a circular family's kappa*(cos(loc)**2 + sin(loc)**2)
    value = readable_matrix(value) if isinstance(x, sp.MatrixSymbol) else readable(value, fp.identities(*p_params))
    steps.append(Step(TITLES[quantity], value, "sum of the terms' expectations, simplified"))
    if condition is sp.true:
        return Derivation(quantity, fp.label, q_label, value, condition, reason, "closed", tuple(steps))
    expr = sp.Piecewise(*_branches(value, condition), (sp.oo, True))
    return Derivation(quantity, fp.label, q_label, expr, condition, reason, "conditional", tuple(steps))


def _divergence_reason(quantity, fp, term_steps, condition) -> str:
    """A sentence naming the expectations that diverge under P (always, or outside a condition)."""
    parts = []
    for step in term_steps:
        when = finite_branch(step.expr)[1] if step.expr is not None else sp.true
        if when is sp.false:
            parts.append(f"{step.title} = oo under P = {fp.label}")
        elif when is not sp.true:
            parts.append(f"{step.title} under P = {fp.label} is finite only when {_shown(when)}")
    verdict = f"{TITLES[quantity]} = oo" if condition is sp.false else \
        f"{TITLES[quantity]} is finite only when {_shown(condition)}, oo otherwise"
    return f"{verdict}: {'; '.join(parts)}"


def _shown(condition: sp.Boolean) -> str:
    return " and ".join(sorted(str(c) for c in sp.And.make_args(condition)))


def _space(fam: Family) -> str:
    return "numbers" if fam.dim is None else f"vectors of dimension {fam.dim}"


def _branches(value: sp.Expr, condition: sp.Boolean) -> list[tuple[sp.Expr, sp.Boolean]]:
    """The finite branch; led by its equality case when that removes an unevaluated series (binomial, shared n)."""
    relation = condition if isinstance(condition, sp.Rel) else None
    if value.has(sp.Sum) and relation is not None and all(s.is_Symbol for s in relation.args):
        small, large = relation.lts, relation.gts
        equal = readable(value.subs(large, small))
        if not equal.has(sp.Sum):
            return [(equal, sp.Eq(small, large)), (value, condition)]
    return [(value, condition)]


def mass_points(fam: Family, values: tuple) -> list | None:
    """The points where a discrete family with every parameter given has positive mass, when finitely many.

    p = 0 or 1 shrinks a declared support ({0, 1} to {1} for bernoulli(1); geometric(1) to {0}).
    """
    found = masses(fam, values)
    return None if found is None else list(found)


def masses(fam: Family, values: tuple) -> dict | None:
    """{point: its probability} over the points with positive mass, when finitely many (see ``mass_points``);
    the density is built once for all the points."""
    lo, hi = bounds(fam.support(*values))
    at = _density_at_points(fam, values)
    if hi.is_finite and hi - lo <= 256:
        points = range(int(lo), int(hi) + 1)
    else:
        k = sp.Symbol("k", integer=True, positive=True)
        if sp.simplify(at(lo + k)) != 0:
            return None
        points = [int(lo)]
    found = {k: at(k) for k in points}
    return {k: w for k, w in found.items() if w != 0}


def density_at(fam: Family, k, values: tuple) -> sp.Expr:
    """The density at a point, built symbolically first so that p = 0 or 1 gives 0**1 = 0, not log(0)."""
    return _density_at_points(fam, values)(k)


def _density_at_points(fam: Family, values: tuple):
    """k -> the density at k. The point goes in before the values, so a categorical's K indicator branches
    collapse to one term at once (values first kept all K branches through every substitution: 3 s a point at
    K = 64); the density is built once, not once a point."""
    x, params = fam.variable(), fam.symbols()
    density, given = fam.density(x, *params), dict(zip(params, values))
    return lambda k: density.xreplace({x: sp.sympify(k)}).subs(given)  # safe: k is an int; xreplace 4x faster


def derive_at_points(quantity: str, fp: Family, p_values: tuple, fq: Family | None, q_values: tuple,
                     points: list) -> sp.Expr:
    """The quantity as a finite sum over P's mass points (0 log 0 = 0; a point Q lacks makes it oo)."""
    total = sp.S.Zero
    p_at = _density_at_points(fp, p_values)
    q_at = None if fq is None else _density_at_points(fq, q_values)
    for k in points:
        w = p_at(k)
        if quantity == "entropy":
            total -= w * sp.log(w)
            continue
        q = q_at(k) if fq.support(*q_values).contains(k) is sp.true else sp.S.Zero
        if q == 0:
            return sp.oo
        total += w * (sp.log(w) - sp.log(q)) if quantity == "kl" else -w * sp.log(q)
    return total
