"""Specs: "normal", "normal(0, 1)", "binomial(n, 0.3)", "categorical(0.2, 0.3, 0.5)" -> a family with values."""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .families import INDEXED, lookup
from .family import Family, FamilyError, Param
from .parse import ParseError, parse_spec


@dataclass(frozen=True)
class Instance:
    """A family with some parameters bound: to exact numbers, to shared symbols (by name), or left free (None)."""

    family: Family
    bound: tuple

    def substitutions(self, suffix: str) -> dict[sp.Symbol, sp.Expr]:
        """Family symbol (with the role's suffix) -> its value or shared symbol, for every bound parameter."""
        return {p.symbol(suffix): (Param(v, p.domain).symbol() if isinstance(v, str) else v)
                for p, v in zip(self.family.params, self.bound) if v is not None}

    @property
    def label(self) -> str:
        if all(v is None for v in self.bound):
            return self.family.label
        shown = ", ".join("_" if v is None else str(v) for v in self.bound)
        complete = self.family.index is None or None not in self.bound
        return f"{self.family.name if complete else self.family.label}({shown})"


def instance(spec) -> Instance:
    """Accept an Instance, a Family, or spec text; check every value against the family's constraints."""
    if isinstance(spec, Instance):
        return spec
    if isinstance(spec, Family):
        return Instance(spec, (None,) * len(spec.params))
    if not isinstance(spec, str):
        raise FamilyError(f"a distribution is a spec string such as 'normal(0, 1)', not {type(spec).__name__}")
    try:
        parsed = parse_spec(spec)
    except ParseError as err:
        raise FamilyError(f"cannot read the distribution {spec!r}: {err}") from None
    index = parsed.index
    if index is None and parsed.name in INDEXED and parsed.args:
        index = len(parsed.args)
    fam = lookup(parsed.name, index)
    return Instance(fam, _bind(fam, parsed))


RESERVED_NAMES = {"nan", "I", "zoo", "None", "True", "False", "x", "k"}


def check_shared_names(*instances: Instance) -> None:
    """A shared name must mean one symbol: refuse it for parameters of different kinds (n as count and rate)."""
    seen: dict[str, sp.Symbol] = {}
    for inst, suffix in zip(instances, ("_p", "_q")):
        for sym in inst.substitutions(suffix).values():
            if isinstance(sym, sp.Symbol):
                if sym.name in seen and seen[sym.name] != sym:
                    raise FamilyError(f"the shared name {sym.name!r} is used for parameters of different kinds")
                seen[sym.name] = sym


def _bind(fam: Family, parsed) -> tuple:
    """Positional then keyword arguments onto the declared parameters, each value checked."""
    names = [p.name for p in fam.params]
    if len(parsed.args) > len(names):
        raise FamilyError(f"{fam.label} takes {len(names)} parameter(s) ({', '.join(names)}), "
                          f"got {len(parsed.args)}")
    bound = list(parsed.args) + [None] * (len(names) - len(parsed.args))
    for key, value in parsed.kwargs:
        if key not in names:
            raise FamilyError(f"{fam.label} has no parameter {key!r}; its parameters are {', '.join(names)}")
        if bound[names.index(key)] is not None:
            raise FamilyError(f"{fam.label}: parameter {key!r} given twice")
        bound[names.index(key)] = value
    for value in bound:
        if isinstance(value, tuple):
            raise FamilyError(f"{fam.label} takes numbers, not a list")
        if isinstance(value, str) and value in RESERVED_NAMES:
            raise FamilyError(f"{value!r} is not a number or a usable parameter name")
    values = {n: v for n, v in zip(names, bound) if v is not None and not isinstance(v, str)}
    problems = fam.violations(values)
    if problems:
        raise FamilyError("invalid parameter: " + "; ".join(problems))
    return tuple(bound)
