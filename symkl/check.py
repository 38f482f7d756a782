"""Verification: every closed form against an independent numeric evaluation of its definition.

At each parameter point the closed form is evaluated at 50 digits and compared with the defining integral
(mpmath quadrature by two methods, tanh-sinh and Gauss-Legendre, which must agree) or sum (summed term by term
until a geometric tail bound is below the target). A point counts as verified at 40+ agreeing digits, or an
absolute difference of at most 1e-45 where the value is ~0; a quadrature that does not converge is inconclusive.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

import mpmath
import sympy as sp

from .family import sample_value
from .quadrature import integrate_definition
from .spec import Instance, instance

DPS = 50
PASS_DIGITS = 40


@dataclass
class Record:
    """One quantity for one pair: its status, the worst agreeing digits, and the points with their digits."""

    p: str
    q: str | None
    quantity: str
    status: str = "verified"
    digits: float | None = None
    points: list = field(default_factory=list)

    def to_json(self) -> dict:
        return {"p": self.p, "q": self.q, "quantity": self.quantity, "status": self.status,
                "digits": self.digits, "points": self.points}


def check(p, q=None, n_points: int = 5, seed: int = 0) -> list[Record]:
    """Check KL, cross-entropy (when Q is given) and P's entropy at ``n_points`` points each."""
    from .query import cross_entropy, entropy, kl
    ip, iq = instance(p), instance(q) if q is not None else None
    if any(isinstance(i.family.dim, sp.Symbol) for i in (ip, iq) if i is not None):
        raise ValueError("check needs values, so a fixed dimension: mvnormal[2], not mvnormal[d]")
    rng = random.Random(seed)
    points = [_point(ip, iq, rng, i) for i in range(n_points)]
    jobs = [("entropy", lambda a, b: entropy(a))] + ([("kl", kl), ("cross_entropy", cross_entropy)] if iq else [])
    records = []
    for quantity, query in jobs:
        rec = Record(ip.label, iq.label if iq and quantity != "entropy" else None, quantity)
        for pp, qq in points:
            result = query(pp, qq)
            rec.points.append(_check_point(result, quantity, pp, qq))
        _summarize(rec)
        records.append(rec)
    return records


def _check_point(result, quantity, pp: Instance, qq: Instance | None) -> dict:
    where = {"p": pp.label, "q": qq.label if qq and quantity != "entropy" else None}
    if result.status == "no-closed-form":
        return {**where, "status": "no-closed-form"}
    closed = result.value(DPS)
    q_args = (qq.family, qq.bound) if quantity != "entropy" else (None, ())
    numeric = integrate_definition(quantity, pp.family, pp.bound, *q_args, dps=DPS)
    if numeric is None:
        return {**where, "status": "inconclusive", "closed": mpmath.nstr(closed, 20)}
    if mpmath.isinf(closed) or mpmath.isinf(numeric):
        ok = mpmath.isinf(closed) and mpmath.isinf(numeric)
        return {**where, "status": "infinite" if ok else "failed", "closed": str(closed), "numeric": str(numeric)}
    with mpmath.workdps(DPS + 20):
        diff = abs(closed - numeric)
        digits = float(min(DPS, -mpmath.log10(diff / abs(closed)))) if diff and closed else float(DPS)
    ok = digits >= PASS_DIGITS or diff <= mpmath.mpf("1e-45")
    return {**where, "status": "verified" if ok else "failed", "digits": round(digits, 1),
            "closed": mpmath.nstr(closed, 25), "numeric": mpmath.nstr(numeric, 25)}


def _summarize(rec: Record) -> None:
    statuses = {pt["status"] for pt in rec.points}
    for status in ("failed", "inconclusive", "no-closed-form"):
        if status in statuses:
            rec.status = status
            break
    else:
        rec.status = "verified" if "verified" in statuses else "infinite"
    digits = [pt["digits"] for pt in rec.points if "digits" in pt]
    rec.digits = min(digits) if digits else None


def _point(ip: Instance, iq: Instance | None, rng: random.Random, i: int):
    """A parameter point: random values for free parameters; every third point puts Q next to P."""
    p_values = _fill(ip, rng)
    pp = Instance(ip.family, p_values)
    if iq is None:
        return pp, None
    if iq.family is ip.family and i % 3 == 2 and all(v is None for v in iq.bound):
        nudged = tuple(v if isinstance(v, sp.Integer) or v in (0, 1) else v * (1 + sp.Rational(1, 10**(3 + i)))
                       for v in p_values)
        if not ip.family.violations({p.name: v for p, v in zip(ip.family.params, nudged)}):
            return pp, Instance(iq.family, nudged)
    return pp, Instance(iq.family, _fill(iq, rng))


def _fill(inst: Instance, rng: random.Random) -> tuple:
    """Given values kept, the others drawn from their domains (and relations: low < high, sum to 1)."""
    fam = inst.family
    for _ in range(100):
        values = tuple(v if v is not None and not isinstance(v, str) else sample_value(p.domain, rng)
                       for p, v in zip(fam.params, inst.bound))
        if fam.name == "categorical" and None in inst.bound:
            total = sum(values)
            values = tuple(v / total for v in values)
        if not fam.violations({p.name: v for p, v in zip(fam.params, values)}):
            return values
    raise ValueError(f"could not draw valid parameters for {inst.label}")
