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
        complete = self.family.index is None or None not in self.bound
        if complete and self.family.arrays and not any(isinstance(v, str) for v in self.bound):
            shown = ", ".join(_show_array(positions, self.bound) for _, positions in self.family.arrays)
        else:
            shown = ", ".join("_" if v is None else str(v) for v in self.bound)
        return f"{self.family.name if complete else self.family.label}({shown})"


def _show_array(positions, bound) -> str:
    """A parameter array as the list it is written as in a spec: [1, 2] or [[1, 1/2], [1/2, 2]]."""
    if isinstance(positions, int):
        return str(bound[positions])
    return "[" + ", ".join(_show_array(p, bound) for p in positions) + "]"


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
    if index is None and parsed.name in INDEXED and (parsed.args or parsed.kwargs):
        index = _infer_size(parsed)
    fam = lookup(parsed.name, index)
    return Instance(fam, _bind(fam, parsed))


def _infer_size(parsed) -> int:
    """The size K or d from the values given: a list's length, else the size whose parameters they all fill."""
    entry = INDEXED[parsed.name]
    values = list(parsed.args) + [v for _, v in parsed.kwargs]
    lists = [v for v in values if isinstance(v, tuple)]
    if lists:
        return len(lists[0])
    counts = {len(entry(size).params): size for size in entry.sizes}
    if len(values) in counts:
        return counts[len(values)]
    fits = ", ".join(f"{parsed.name}[{size}] takes {n}" for n, size in list(counts.items())[:3])
    raise FamilyError(f"cannot tell the size {entry.size} of {parsed.name} from {len(values)} value(s) ({fits}); "
                      f"write {parsed.name}[{entry.size}](...) with {entry.size} given, or every value, as in "
                      f"{entry.example}")


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
    """Positional then keyword arguments onto the declared parameters, each value checked. Lists fill a
    family's arrays (``mvnormal([0, 0], [[1, 0], [0, 1]])``); positional lists go to the arrays in order."""
    names, arrays = [p.name for p in fam.params], dict(fam.arrays)
    if isinstance(fam.dim, sp.Symbol):
        if parsed.args or parsed.kwargs:
            raise FamilyError(f"{fam.label} is the general form in matrix symbols and takes no values; give values "
                              f"at a fixed dimension, as in {fam.name}([0, 0], [[1, 0.5], [0.5, 2]])")
        return (None,) * len(names)
    if arrays and any(isinstance(a, tuple) for a in parsed.args):
        if len(parsed.args) > len(arrays):
            raise FamilyError(f"{fam.label} takes {len(arrays)} list(s) ({', '.join(arrays)}), got {len(parsed.args)}")
        items = list(zip(arrays, parsed.args))
    else:
        if len(parsed.args) > len(names):
            raise FamilyError(f"{fam.label} takes {len(names)} parameter(s) ({', '.join(names)}), "
                              f"got {len(parsed.args)}")
        items = list(zip(names, parsed.args))
    bound, origin = [None] * len(names), [None] * len(names)
    for key, value in items + list(parsed.kwargs):
        if key in arrays and key not in names:
            _spread(fam, key, arrays[key], value, bound, origin)
            continue
        if key not in names:
            lists = f" (or, as lists, {', '.join(arrays)})" if arrays else ""
            raise FamilyError(f"{fam.label} has no parameter {key!r}; its parameters are {', '.join(names)}{lists}")
        if origin[names.index(key)] is not None:
            raise FamilyError(f"{fam.label}: parameter {key!r} given twice")
        bound[names.index(key)], origin[names.index(key)] = value, key
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


def _spread(fam: Family, key: str, positions, value, bound: list, origin: list) -> None:
    """Put a list given for an array onto its parameter positions: shape checked, a symmetric matrix's mirrored
    entries equal; '_' leaves the whole array symbolic."""
    if value is not None and _shape(value) != _shape(positions):
        raise FamilyError(f"{fam.label}: {key} must be {_describe(_shape(positions))}, got {_describe(_shape(value))}")
    for path, pos in _leaves(positions):
        entry = None if value is None else _at(value, path)
        if origin[pos] not in (None, key):
            raise FamilyError(f"{fam.label}: parameter {fam.params[pos].name!r} given twice")
        if origin[pos] == key and bound[pos] != entry:
            i, j = (p + 1 for p in path)
            raise FamilyError(f"{fam.label}: {key} must be symmetric, but {key}[{i}][{j}] = {entry} and "
                              f"{key}[{j}][{i}] = {bound[pos]}")
        bound[pos], origin[pos] = entry, key


def _shape(value) -> tuple | None:
    """(n,) for a list of numbers, (n, m) for a list of n lists of m numbers; None for a number or ragged lists."""
    if not isinstance(value, tuple):
        return None
    inner = {_shape(v) for v in value}
    if len(inner) != 1:
        return ("ragged",)
    (sub,) = inner
    return (len(value),) if sub is None else (len(value), *sub)


def _describe(shape) -> str:
    if shape is None:
        return "a number"
    if shape == ("ragged",) or len(shape) > 2:
        return "a list of rows of different lengths" if shape == ("ragged",) else "a nested list"
    if len(shape) == 1:
        return f"a list of {shape[0]} number(s)"
    return f"a {shape[0]}x{shape[1]} matrix (a list of {shape[0]} row(s) of {shape[1]} number(s))"


def _leaves(positions, path=()):
    """(path, parameter position) for every entry of a nested array of positions."""
    if isinstance(positions, int):
        yield path, positions
        return
    for i, p in enumerate(positions):
        yield from _leaves(p, path + (i,))


def _at(value, path):
    for i in path:
        value = value[i]
    return value
