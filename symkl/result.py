"""Result: a derived quantity for two (or one) specs, specialized to their values, in nats or another base."""
from __future__ import annotations

import json
from dataclasses import dataclass

import mpmath
import sympy as sp

from .divergence import TITLES, Derivation
from .expectation import Step
from .spec import Instance

BASES = {"e": sp.S.One, "2": sp.log(2), "10": sp.log(10)}
UNITS = {"e": "nats", "2": "bits", "10": "hartleys"}


@dataclass(frozen=True)
class Result:
    """``expr`` (sympy, in ``unit``), ``symbols`` (P's free parameters in order, then Q's), ``conditions``
    (when the result is finite), ``status``, ``reason`` (why infinite) and ``steps`` (how it was derived)."""

    quantity: str
    p: Instance
    q: Instance | None
    expr: sp.Expr | None
    symbols: tuple[sp.Symbol, ...]
    conditions: sp.Boolean
    status: str
    reason: str
    steps: tuple[Step, ...]
    base: str = "e"

    @property
    def unit(self) -> str:
        return UNITS[self.base]

    @property
    def title(self) -> str:
        names = f"{self.p.label}||{self.q.label}" if self.q else self.p.label
        return f"{TITLES[self.quantity].split('(')[0]}({names.replace('||', ', ') if self.quantity == 'cross_entropy' else names})"

    def value(self, dps: int = 50):
        """The value as an mpmath number at ``dps`` digits (mpmath.inf when infinite)."""
        if self.expr is None:
            raise ValueError(f"{self.title}: no closed form was found ({self.reason})")
        if self.symbols:
            raise ValueError(f"{self.title} still has free parameters: {', '.join(map(str, self.symbols))}; "
                             f"give every parameter a value, as in normal(0, 1)")
        if self.expr.is_infinite:
            return mpmath.inf if self.expr.is_extended_positive else -mpmath.inf
        expr = self.expr.replace(lambda e: isinstance(e, sp.Sum) and e.limits[0][2].is_Integer, lambda e: e.doit())
        with mpmath.workdps(dps + 10):
            number = sp.N(expr, dps + 10)
            if not number.is_Number or number.is_infinite or number is sp.nan:
                raise ValueError(f"{self.title}: could not evaluate {self.expr} to a number")
            return +mpmath.mpf(number._mpf_) if number.is_Float else +mpmath.mpf(sp.Float(number, dps + 10)._mpf_)

    def decimal(self, dps: int = 20) -> str:
        v = self.value(dps)
        return "oo" if mpmath.isinf(v) else mpmath.nstr(v, dps)

    def latex(self) -> str:
        return "" if self.expr is None else sp.latex(self.expr)

    def to_json(self) -> dict:
        """A JSON object: expr (parseable by sympy), symbols, latex, conditions, status, unit; value when numeric."""
        out = {"quantity": self.quantity, "p": self.p.label, "q": self.q.label if self.q else None,
               "expr": None if self.expr is None else str(self.expr), "symbols": [s.name for s in self.symbols],
               "latex": self.latex(), "conditions": str(self.conditions), "status": self.status,
               "reason": self.reason, "unit": self.unit}
        if self.expr is not None and not self.symbols:
            out["value"] = self.decimal(30)
        return out

    def __str__(self) -> str:
        return f"{self.title} = {self.expr}" if self.expr is not None else f"{self.title}: {self.reason}"


def specialize(d: Derivation, p: Instance, q: Instance | None, base: str = "e") -> Result:
    """Substitute the specs' values into a family-level derivation (0 log 0 = 0), then convert the base."""
    subs = {**p.substitutions("" if q is None else "_p"), **(q.substitutions("_q") if q else {})}
    expr = None if d.expr is None else substitute(d.expr, subs)
    condition = d.condition.subs(subs) if subs else d.condition
    status, reason = d.status, d.reason
    if status == "conditional" and condition in (sp.true, sp.false):
        status = "closed" if condition is sp.true else "infinite"
    if expr is not None and expr.is_infinite:
        status = "infinite"
        reason = reason or "the expectation diverges at these values"
    if expr is not None and base != "e":
        expr = expr if expr.is_infinite else expr / BASES[base]
    steps = d.steps + ((Step("with the given values", expr, ", ".join(f"{k} = {v}" for k, v in subs.items())),)
                       if subs else ())
    return Result(d.quantity, p, q, expr, _ordered_symbols(expr, d, p, q), condition, status, reason, steps, base)


def substitute(expr: sp.Expr, subs: dict) -> sp.Expr:
    """expr.subs(subs) with the convention 0 log 0 = 0 (a term weighted by a zero probability contributes 0)."""
    if not subs:
        return expr
    if isinstance(expr, sp.Piecewise):
        for branch, cond in expr.args:
            decided = cond.subs(subs)
            if decided is sp.true:
                return substitute(branch, subs)
            if decided is not sp.false:
                return sp.Piecewise(*[(substitute(b, subs), c.subs(subs)) for b, c in expr.args])
        return sp.nan
    out = expr.subs(subs)
    if not out.has(sp.nan, sp.zoo):
        return out
    return sp.Add(*[_term_with_convention(t, subs) for t in sp.Add.make_args(expr)])


def _term_with_convention(term: sp.Expr, subs: dict) -> sp.Expr:
    value = term.subs(subs)
    if not value.has(sp.nan, sp.zoo):
        return value
    factors = [f.subs(subs) for f in sp.Mul.make_args(term)]
    zero = any(f == 0 for f in factors)
    only_logs = all(f.is_finite or isinstance(orig, sp.log) or (orig.is_Pow and isinstance(orig.base, sp.log))
                    for f, orig in zip(factors, sp.Mul.make_args(term)))
    return sp.S.Zero if zero and only_logs else value


def _ordered_symbols(expr, d: Derivation, p: Instance, q: Instance | None) -> tuple[sp.Symbol, ...]:
    """Free symbols in the declared order: P's parameters, then Q's (shared names where they first appear)."""
    if expr is None:
        return ()
    order = []
    for inst, suffix in ((p, "" if q is None else "_p"), (q, "_q")):
        if inst is None:
            continue
        subs = inst.substitutions(suffix)
        for sym in inst.family.symbols(suffix):
            for s in ([subs[sym]] if sym in subs else [sym]):
                if isinstance(s, sp.Symbol) and s not in order and s in expr.free_symbols:
                    order.append(s)
    return tuple(order)
