"""The catalog: every declared family, looked up by name or alias, with a did-you-mean for typos."""
from __future__ import annotations

import difflib

from ..family import Family, FamilyError
from .continuous import FAMILIES as CONTINUOUS
from .discrete import FAMILIES as DISCRETE
from .discrete import categorical

INDEXED = {"categorical": categorical}
"""Families declared per index K (``categorical[3]``)."""

_BY_NAME = {alias: fam for fam in CONTINUOUS + DISCRETE for alias in (fam.name, *fam.aliases)}


def names() -> list[str]:
    """Canonical names of every family, in catalog order."""
    return [f.name for f in CONTINUOUS + DISCRETE] + sorted(INDEXED)


def lookup(name: str, index: int | None = None) -> Family:
    """The family called ``name`` (or an alias); indexed families need ``index`` (``categorical[3]``)."""
    key = name.strip().lower()
    if key in INDEXED:
        if index is None:
            raise FamilyError(f"{key} needs its size: write {key}[3] for K = 3, or give the probabilities, "
                              f"as in {key}(0.2, 0.3, 0.5)")
        if not 1 <= index <= 64:
            raise FamilyError(f"{key}[{index}]: K must be between 1 and 64")
        return INDEXED[key](index)
    if key in _BY_NAME:
        if index is not None:
            raise FamilyError(f"{key} takes no [index]; only {', '.join(sorted(INDEXED))} do")
        return _BY_NAME[key]
    close = difflib.get_close_matches(key, list(_BY_NAME) + list(INDEXED), n=3, cutoff=0.6)
    suggestions = list(dict.fromkeys(_canonical(c) for c in close))
    hint = f" Did you mean {' or '.join(map(repr, suggestions))}?" if close else ""
    raise FamilyError(f"unknown family {name.strip()!r}.{hint} Known families: {', '.join(names())}")


def _canonical(alias: str) -> str:
    return _BY_NAME[alias].name if alias in _BY_NAME else alias
