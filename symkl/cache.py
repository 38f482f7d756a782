"""Derived results cached in memory and on disk, keyed by the family declarations and the engine's code.

A changed declaration or a changed engine gives a new key, so a stale entry is never served; every file carries
a checksum of its content, and a file that fails it (or fails to decode) is re-derived, never trusted.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path


from .divergence import Derivation, derive
from .expectation import Step
from .family import Family
from .serialize import NotSerializable, decode, encode, key_text

_MEMORY: dict[str, Derivation] = {}
_ENGINE: list[str] = []
_SOURCE: list[str] = []


def cache_dir() -> Path:
    """$SYMKL_CACHE_DIR, else $XDG_CACHE_HOME/symkl, else ~/.cache/symkl."""
    if os.environ.get("SYMKL_CACHE_DIR"):
        return Path(os.environ["SYMKL_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "symkl"


CONSUMERS = ("ml", "ball.py", "book.py", "catalog.py", "check.py", "cli.py", "cubature.py", "quadrature.py")
"""Parts of symkl that read derivations, or evaluate definitions numerically, and never shape a derivation:
editing them keeps the derivation cache."""


def engine_hash() -> str:
    """A hash of the derivation engine's source (symkl without CONSUMERS): any change to it invalidates every
    cached derivation."""
    if not _ENGINE:
        _ENGINE.append(_source_digest(lambda parts: parts[0] not in CONSUMERS))
    return _ENGINE[0]


def source_hash() -> str:
    """A hash of all of symkl's source, for results (symkl.ml's) that any module may shape."""
    if not _SOURCE:
        _SOURCE.append(_source_digest(lambda parts: True))
    return _SOURCE[0]


def _source_digest(include) -> str:
    root = Path(__file__).parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        if include(path.relative_to(root).parts):
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def code_hash(*modules: str) -> str:
    """A hash of some of symkl's modules (``check``, ``families/halfline``): results that depend on those and on
    a derived expression, not on how it was derived, stay valid when the rest of the engine changes."""
    digest = hashlib.sha256()
    for name in sorted(modules):
        digest.update((Path(__file__).parent / f"{name}.py").read_bytes())
    return digest.hexdigest()[:16]


def derivation(quantity: str, fp: Family, fq: Family | None = None) -> Derivation:
    """The derivation for these families: from memory, else from a verified disk entry, else derived now."""
    key = hashlib.sha256("|".join([engine_hash(), quantity, fp.fingerprint(),
                                   fq.fingerprint() if fq else "-"]).encode()).hexdigest()[:32]
    if key in _MEMORY:
        return _MEMORY[key]
    path = cache_dir() / f"{key}.json"
    found = _from_payload(read_checked(path))
    if found is None:
        found = _stored(path, derive(quantity, fp, fq))
    _MEMORY[key] = found
    return found


def term_key(*parts: str) -> str:
    """The cache key of one expectation term: engine, family declaration, term."""
    return hashlib.sha256("|".join([engine_hash(), "term", *parts]).encode()).hexdigest()[:32]


def failed_before(key: str) -> bool:
    """Whether every rule already failed on this term (a verified disk entry): not worth a second budget."""
    payload = read_checked(cache_dir() / f"{key}.json")
    return isinstance(payload, dict) and payload.get("failed") is True


def record_failure(key: str) -> None:
    write_checked(cache_dir() / f"{key}.json", {"failed": True})


def clear_memory() -> None:
    _MEMORY.clear()


def _from_payload(payload) -> Derivation | None:
    try:
        return None if payload is None else Derivation(
            payload["quantity"], payload["p"], payload["q"],
            None if payload["expr"] is None else decode(payload["expr"]), decode(payload["condition"]),
            payload["reason"], payload["status"],
            tuple(Step(t, None if e is None else decode(e), h) for t, e, h in payload["steps"]))
    except (ValueError, KeyError, TypeError, IndexError, RecursionError):
        return None


def _stored(path: Path, d: Derivation) -> Derivation:
    """Store d and return it as it will be read back: sympy re-evaluates what it rebuilds (Gamma((t + 1)/2)
    comes back as Gamma(t/2 + 1/2)), and a page written from a derivation made in the same process read
    differently from one written from the cache."""
    try:
        payload = {"quantity": d.quantity, "p": d.p, "q": d.q,
                   "expr": None if d.expr is None else encode(d.expr), "condition": encode(d.condition),
                   "reason": d.reason, "status": d.status,
                   "steps": [[s.title, None if s.expr is None else encode(s.expr), s.how] for s in d.steps]}
    except NotSerializable:
        return d
    write_checked(path, payload)
    return _from_payload(payload) or d


def numeric_choice(expr, symbols: tuple, domains: dict, choose):
    """The float64 forms chosen for expr, (form, Stirling form or None, (near form, threshold) or None): from
    memory or disk, else ``choose()`` now (measuring every candidate against 60-digit values takes seconds)."""
    key = hashlib.sha256("|".join([engine_hash(), "numeric", key_text(expr), repr(symbols),
                                   repr(sorted((s.name, d) for s, d in domains.items()))]).encode()).hexdigest()[:32]
    if key in _MEMORY:
        return _MEMORY[key]
    path = cache_dir() / f"{key}.json"
    found = _choice_from(read_checked(path))
    if not found:
        found = form, large, near = choose()
        try:  # used as it will be read back, as derivations are (_stored)
            payload = {"form": encode(form), "large": large and encode(large),
                       "near": near and [encode(near[0]), near[1]]}
            write_checked(path, payload)
            found = _choice_from(payload) or found
        except NotSerializable:
            pass
    _MEMORY[key] = found
    return found


def _choice_from(payload):
    try:
        return payload and (decode(payload["form"]), payload["large"] and decode(payload["large"]),
                            payload["near"] and (decode(payload["near"][0]), payload["near"][1]))
    except (ValueError, KeyError, TypeError, IndexError, RecursionError):
        return None


def read_checked(path: Path):
    """The JSON payload stored at path, or None when it is missing, unreadable or fails its checksum."""
    try:
        blob = json.loads(path.read_text())
        return blob["payload"] if blob["checksum"] == _checksum(blob["payload"]) else None
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return None


def write_checked(path: Path, payload) -> None:
    """Store a JSON payload with its checksum, atomically (a partial file is never read back as valid)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"checksum": _checksum(payload), "payload": payload}))
        tmp.replace(path)
    except OSError:
        pass


def _checksum(payload) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
