"""Entropy, cross-entropy and KL for a pair of families, derived from their declarations.

Each is derived once per pair of families with every parameter symbolic (P's suffixed _p, Q's _q); values in a
spec are substituted afterwards. Support analysis comes first: where P has mass that Q lacks, the result is oo.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from .expectation import NoClosedForm, Step, expect
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


def _finish(quantity, fp, fq, integrand, p_params, x, condition, reason, steps) -> Derivation:
    """Take E_P of the integrand, make it readable, and wrap it in the finiteness condition."""
    q_label = fq.label if fq else None
    try:
        value, term_steps = expect(fp, p_params, integrand, x)
    except NoClosedForm as err:
        steps.append(Step("no closed form", None, str(err)))
        return Derivation(quantity, fp.label, q_label, None, condition, reason, "no-closed-form", tuple(steps))
    steps += term_steps
    terms = sp.Add.make_args(value)
    if sp.oo in terms and -sp.oo not in terms:
        value = sp.oo  # the other terms are finite expectations (digammas sympy cannot bound)
    if value is sp.oo:
        why = f"the expectation diverges: {_divergent_terms(term_steps)}"
        steps.append(Step(TITLES[quantity], sp.oo, why))
        return Derivation(quantity, fp.label, q_label, sp.oo, sp.false, why, "infinite", tuple(steps))
    value, finite = _finite_part(value)
    if finite is not sp.true:
        condition = sp.And(condition, finite)
        diverging = f"finite only when {finite}: otherwise {_divergent_terms(term_steps)} diverges"
        reason = "; ".join(r for r in (reason, diverging) if r)
    if value.has(sp.sin, sp.cos):
        value = sp.trigsimp(value)  # a circular family's kappa*(cos(loc)**2 + sin(loc)**2)
    value = readable_matrix(value) if isinstance(x, sp.MatrixSymbol) else readable(value, fp.identities(*p_params))
    steps.append(Step(TITLES[quantity], value, "sum of the terms' expectations, simplified"))
    if condition is sp.true:
        return Derivation(quantity, fp.label, q_label, value, condition, reason, "closed", tuple(steps))
    expr = sp.Piecewise(*_branches(value, condition), (sp.oo, True))
    return Derivation(quantity, fp.label, q_label, expr, condition, reason, "conditional", tuple(steps))


def _divergent_terms(steps) -> str:
    """The terms whose expectations are infinite or undefined, named as in the steps (E[x**2])."""
    named = [s.title for s in steps if s.expr is not None and (s.expr in (sp.oo, sp.nan) or
                                                                 s.expr.has(sp.oo) and isinstance(s.expr, sp.Piecewise))]
    return ", ".join(named) or "a term"


def _finite_part(value: sp.Expr) -> tuple[sp.Expr, sp.Boolean]:
    """A total holding Piecewise((v, cond), (oo, True)) terms as (its finite value, cond): a heavy tail's
    moment exists only for some parameters (a studentt's E[X**2] when df > 2)."""
    if not value.has(sp.Piecewise):
        return value, sp.true
    conditions = []

    def finite(pw):
        if len(pw.args) == 2 and pw.args[1] == (sp.oo, True):
            conditions.append(pw.args[0][1])
            return pw.args[0][0]
        return pw
    value = value.replace(lambda e: isinstance(e, sp.Piecewise), finite)
    return value, sp.And(*conditions)


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
    lo, hi = bounds(fam.support(*values))
    if hi.is_finite and hi - lo <= 256:
        points = range(int(lo), int(hi) + 1)
    else:
        k = sp.Symbol("k", integer=True, positive=True)
        if sp.simplify(density_at(fam, lo + k, values)) != 0:
            return None
        points = [int(lo)]
    return [k for k in points if density_at(fam, k, values) != 0]


def density_at(fam: Family, k, values: tuple) -> sp.Expr:
    """The density at a point, built symbolically first so that p = 0 or 1 gives 0**1 = 0, not log(0)."""
    x, params = fam.variable(), fam.symbols()
    return fam.density(x, *params).subs(dict(zip(params, values))).subs(x, k)


def derive_at_points(quantity: str, fp: Family, p_values: tuple, fq: Family | None, q_values: tuple,
                     points: list) -> sp.Expr:
    """The quantity as a finite sum over P's mass points (0 log 0 = 0; a point Q lacks makes it oo)."""
    total = sp.S.Zero
    for k in points:
        w = density_at(fp, k, p_values)
        if quantity == "entropy":
            total -= w * sp.log(w)
            continue
        q = density_at(fq, k, q_values) if fq.support(*q_values).contains(k) is sp.true else sp.S.Zero
        if q == 0:
            return sp.oo
        total += w * (sp.log(w) - sp.log(q)) if quantity == "kl" else -w * sp.log(q)
    return total
