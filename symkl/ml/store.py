"""Family-level results of ``symkl.ml`` on disk, next to the catalog's cache: keyed by symkl's own code and the
family's declaration (a change to either gives a new key, so a stale entry is never served), checksummed, and
rebuilt through an allow-list (dataclasses named here, sympy through ``symkl.serialize``), never evaluated."""
from __future__ import annotations

import dataclasses
import hashlib

from ..cache import cache_dir, read_checked, source_hash, write_checked
from ..expectation import Step
from ..serialize import NotSerializable, decode, encode

_TYPES: dict[str, type] = {"Step": Step}


def storable(cls):
    """Register a dataclass whose instances may be stored (its fields: sympy, text, numbers, tuples of them)."""
    _TYPES[cls.__name__] = cls
    return cls


def remembered(kind: str, key: str, build, code: str | None = None):
    """build(), or its stored result for (kind, key) when symkl's code (or, given, the ``code`` hash of the
    modules the result depends on) and the key are unchanged."""
    digest = hashlib.sha256(f"{code or source_hash()}|{kind}|{key}".encode()).hexdigest()[:32]
    path = cache_dir() / f"ml-{kind}-{digest}.json"
    payload = read_checked(path)
    if payload is not None:
        try:
            return _load(payload)
        except (ValueError, KeyError, TypeError, IndexError, RecursionError):
            pass
    value = build()
    try:
        write_checked(path, _dump(value))
    except NotSerializable:
        pass
    return value


def _dump(value):
    if dataclasses.is_dataclass(value) and type(value).__name__ in _TYPES:
        return {"dataclass": type(value).__name__,
                "fields": {f.name: _dump(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    if isinstance(value, (tuple, list)):
        return {"tuple": [_dump(v) for v in value]}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"dict": {k: _dump(v) for k, v in value.items()}}
    if value is None or isinstance(value, (str, bool, int, float)):
        return {"plain": value}
    return {"sympy": encode(value)}


def _load(data):
    if "dataclass" in data:
        return _TYPES[data["dataclass"]](**{k: _load(v) for k, v in data["fields"].items()})
    if "tuple" in data:
        return tuple(_load(v) for v in data["tuple"])
    if "dict" in data:
        return {k: _load(v) for k, v in data["dict"].items()}
    if "plain" in data:
        return data["plain"]
    return decode(data["sympy"])
