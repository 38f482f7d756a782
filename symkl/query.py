"""The queries users ask: kl, entropy and cross_entropy of specs, derived once per family pair and cached."""
from __future__ import annotations

from . import cache
from .result import BASES, Result, specialize
from .spec import check_shared_names, instance


def kl(p, q, base="e") -> Result:
    """KL(P||Q) for two specs, e.g. ``kl("normal", "normal(0, 1)")``; ``base=2`` gives bits."""
    return _query("kl", p, q, base)


def cross_entropy(p, q, base="e") -> Result:
    """H(P, Q) = -E_P[log q(X)] for two specs."""
    return _query("cross_entropy", p, q, base)


def entropy(p, base="e") -> Result:
    """H(P) = -E_P[log p(X)] for a spec, e.g. ``entropy("gamma(2, 1)")``."""
    return _query("entropy", p, None, base)


def unit_base(base) -> str:
    """Normalize a log base given as e, 2, 10 (number or text) to the key used in results."""
    key = {"2.0": "2", "10.0": "10", "nats": "e", "bits": "2"}.get(str(base).strip().lower(), str(base).strip().lower())
    if key not in BASES:
        raise ValueError(f"unsupported log base {base!r}: use e (nats), 2 (bits) or 10")
    return key


def _query(quantity: str, p, q, base) -> Result:
    key = unit_base(base)
    ip = instance(p)
    iq = instance(q) if q is not None else None
    check_shared_names(*[i for i in (ip, iq) if i is not None])
    d = cache.derivation(quantity, ip.family, iq.family if iq else None)
    return specialize(d, ip, iq, key)
