"""Verification: every closed form against an independent numeric evaluation of its definition.

At each parameter point the closed form is evaluated at 50 digits and compared with the defining integral
(mpmath quadrature by two methods, tanh-sinh and Gauss-Legendre, which must agree) or sum (summed term by term
until a geometric tail bound is below the target). A point counts as verified at 40+ agreeing digits, or an
absolute difference of at most 1e-45 where the value is ~0; a quadrature that does not converge is inconclusive.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

import mpmath
import sympy as sp

from .family import sample_value
from .quadrature import integrate_definition, positive_outside, tail_divergence
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
    seconds: float | None = None  # CPU seconds the check took (check --all's jobs: to find the slow ones)

    def to_json(self) -> dict:
        out = {"p": self.p, "q": self.q, "quantity": self.quantity, "status": self.status,
               "digits": self.digits, "points": self.points}
        return out if self.seconds is None else {**out, "seconds": self.seconds}


QUERIES = ("entropy", "kl", "cross_entropy")


def check(p, q=None, n_points: int = 5, seed: int = 0) -> list[Record]:
    """Check P's entropy, and KL and cross-entropy when Q is given, at ``n_points`` points each."""
    return [check_quantity(quantity, p, q, n_points, seed) for quantity in QUERIES[:1 if q is None else 3]]


def check_quantity(quantity: str, p, q=None, n_points: int = 5, seed: int = 0) -> Record:
    """One quantity at ``n_points`` parameter points (entropy: P's only)."""
    from . import query
    ip = instance(p)
    iq = instance(q) if q is not None and quantity != "entropy" else None
    if any(isinstance(i.family.dim, sp.Symbol) for i in (ip, iq) if i is not None):
        raise ValueError("check needs values, so a fixed dimension: mvnormal[2], not mvnormal[d]")
    rng = random.Random(seed)
    rec = Record(ip.label, iq.label if iq else None, quantity)
    points = _covering(quantity, ip, iq, [_point(ip, iq, rng, i) for i in range(n_points)], random.Random(seed + 1))
    for pp, qq in points:
        result = query.entropy(pp) if iq is None else getattr(query, quantity)(pp, qq)
        rec.points.append(_check_point(result, quantity, pp, qq))
    _summarize(rec)
    return rec


JOB_SECONDS = 240.0


def check_all(workers: int = 2, n_points: int = 5, every: int = 1) -> list[Record]:
    """Every quantity the catalog holds (each family's entropy once, KL and cross-entropy for every pair), or
    every ``every``-th of them, spread over ``workers`` processes; a job out of JOB_SECONDS is inconclusive,
    never verified."""
    from concurrent.futures import ProcessPoolExecutor

    from .catalog import jobs
    work = [(quantity, p, q, n_points) for quantity, p, q in jobs()[::every] if all(map(_has_values, (p, q)))]
    by_p = {}  # one task per P: its integrals are remembered in the process (see integrate_definition)
    for job in work:
        by_p.setdefault(job[1], []).append(job)
    # the longest first, the vector families' before all: a cubature takes as long as a hundred integrals, and
    # a dirichlet's few jobs, last, kept one process busy for 20 s after the other had finished
    tasks = sorted(by_p.values(), key=lambda task: (instance(task[0][1]).family.dim is not None, len(task)),
                   reverse=True)
    if workers <= 1:
        return [record for task in tasks for record in _check_jobs(task)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return [record for records in pool.map(_check_jobs, tasks, chunksize=1) for record in records]


def _check_jobs(jobs: list) -> list[Record]:
    return [_check_job(job) for job in jobs]


def _has_values(label) -> bool:
    """False for a general-dimension form (mvnormal[d]): it takes no values, so there is nothing to integrate."""
    return label is None or not isinstance(instance(label).family.dim, sp.Symbol)


def _check_job(job) -> Record:
    start = time.process_time()
    record = _run_job(job)
    record.seconds = round(time.process_time() - start, 2)
    return record


def _run_job(job) -> Record:
    from .budget import OutOfTime, time_budget
    quantity, p, q, n_points = job
    try:
        with time_budget(JOB_SECONDS, f"checking {quantity} for {p}||{q}"):
            return check_quantity(quantity, p, q, n_points)
    except OutOfTime as err:
        return Record(p, q, quantity, "inconclusive", None, [{"status": "inconclusive", "note": str(err)}])
    except Exception as err:  # a check that crashes has failed, visibly, without stopping the others
        return Record(p, q, quantity, "failed", None, [{"status": "failed", "note": f"{type(err).__name__}: {err}"}])


def _check_point(result, quantity, pp: Instance, qq: Instance | None) -> dict:
    where = {"p": pp.label, "q": qq.label if qq and quantity != "entropy" else None}
    if result.status == "no-closed-form":
        return {**where, "status": "no-closed-form"}
    try:
        closed = result.value(DPS, fallback=False)
    except ValueError:  # a closed form mpmath cannot evaluate here is not verified by quadrature alone
        return {**where, "status": "inconclusive", "note": "mpmath could not evaluate the closed form here"}
    q_args = (qq.family, qq.bound) if quantity != "entropy" else (None, ())
    numeric = integrate_definition(quantity, pp.family, pp.bound, *q_args, dps=DPS) \
        if not mpmath.isinf(closed) else _infinite_evidence(quantity, pp, q_args)
    if numeric is None and pp.family.dim is None and not pp.family.discrete:
        # the two methods disagree: a definition that diverges in a tail makes a finite closed form wrong
        sign = tail_divergence(quantity, pp.family, pp.bound, *q_args)
        numeric = sign * mpmath.inf if sign else None
    if numeric is None:
        return {**where, "status": "inconclusive", "closed": mpmath.nstr(closed, 20)}
    if mpmath.isinf(closed) or mpmath.isinf(numeric):
        ok = mpmath.isinf(closed) and mpmath.isinf(numeric)
        return {**where, "status": "infinite" if ok else "failed", "closed": str(closed), "numeric": str(numeric)}
    with mpmath.workdps(DPS + 20):
        diff = abs(closed - numeric)
        digits = float(min(DPS, -mpmath.log10(diff / abs(closed)))) if diff and closed else float(DPS)
    ok = digits >= PASS_DIGITS or diff <= mpmath.mpf("1e-45")
    out = {**where, "status": "verified" if ok else "failed", "digits": round(digits, 1),
           "closed": mpmath.nstr(closed, 25), "numeric": mpmath.nstr(numeric, 25)}
    if quantity == "kl":
        out.update(_bregman_agreement(closed, pp, qq))
    return out


def _infinite_evidence(quantity: str, pp: Instance, q_args: tuple):
    """For a closed form that is oo: +-oo when P has mass where Q has none, or (continuous P) when the defining
    integral diverges in a tail (heavy tails: cauchy against normal); else the integral's value, which then
    fails the comparison."""
    fp, fq = pp.family, q_args[0]
    if fq is not None and fp.dim is None and not fp.discrete and positive_outside(fp, pp.bound, fq, q_args[1], DPS):
        return mpmath.inf
    if fp.dim is None and not fp.discrete and (sign := tail_divergence(quantity, fp, pp.bound, *q_args)):
        return sign * mpmath.inf
    return integrate_definition(quantity, fp, pp.bound, *q_args, dps=DPS)


def _bregman_agreement(closed, pp: Instance, qq: Instance) -> dict:
    """For an exponential family: the KL's digits of agreement with the Bregman divergence of the log-partition
    at this point (failed below PASS_DIGITS); nothing for other pairs."""
    from .proof import bregman_kl
    bregman = bregman_kl(pp, qq)
    if bregman is None:
        return {}
    with mpmath.workdps(DPS + 20):
        value = mpmath.mpf(sp.N(bregman, DPS + 20))
        diff = abs(closed - value)
        digits = float(min(DPS, -mpmath.log10(diff / abs(closed)))) if diff and closed else float(DPS)
    ok = digits >= PASS_DIGITS or diff <= mpmath.mpf("1e-45")
    return {"bregman_digits": round(digits, 1)} if ok else \
        {"status": "failed", "bregman_digits": round(digits, 1), "bregman": mpmath.nstr(value, 25)}


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


NEAR, EDGE = 2, 3  # the points i with i % 5 == NEAR put Q next to P; EDGE, values near the domains' edges


def _point(ip: Instance, iq: Instance | None, rng: random.Random, i: int):
    """A parameter point: random values for free parameters; every fifth from i = 2 puts Q next to P (relative
    difference 1e-5 and less), every fifth from i = 3 draws values near the domains' edges."""
    edge = i % 5 == EDGE
    p_values = _fill(ip, rng, edge)
    pp = Instance(ip.family, p_values)
    if iq is None:
        return pp, None
    if iq.family is ip.family and i % 5 == NEAR and all(v is None for v in iq.bound):
        nudged = tuple(v if isinstance(v, sp.Integer) or v in (0, 1) else v * (1 + sp.Rational(1, 10**(3 + i)))
                       for v in p_values)
        if not ip.family.violations({p.name: v for p, v in zip(ip.family.params, nudged)}):
            return pp, Instance(iq.family, nudged)
    return pp, Instance(iq.family, _fill(iq, rng, edge))


COVER_TRIES = 200


def _covering(quantity: str, ip: Instance, iq: Instance | None, points: list, rng: random.Random) -> list:
    """The points, with general ones (not Q next to P, not at the domains' edges) replaced where needed so that
    every finite branch of the derived Piecewise is evaluated at one of them at least (beta||laplace's E|X - c|
    has its incomplete beta functions only for c inside (0, 1), which random locations seldom reach): a branch
    never evaluated is a formula never verified. Each branch is sought among COVER_TRIES random points."""
    from . import cache
    d = cache.derivation(quantity, ip.family, iq.family if iq else None)
    if d.expr is None:
        return points
    branches = {(pw, j) for pw in d.expr.atoms(sp.Piecewise) for j, (value, _) in enumerate(pw.args)
                if not value.has(sp.oo, -sp.oo, sp.zoo)}
    hit = [_branches_at(branches, ip, iq, pp, qq) for pp, qq in points]
    spare = [i for i in range(len(points)) if i % 5 not in (NEAR, EDGE)]
    for branch in sorted(branches - set().union(*hit), key=str):
        for _ in range(COVER_TRIES):
            candidate = _point(ip, iq, rng, 0)
            reached = _branches_at(branches, ip, iq, *candidate)
            if branch not in reached:
                continue
            covered = set().union(*hit) | reached
            free = [i for i in spare if set().union(*(h for k, h in enumerate(hit) if k != i)) | reached == covered]
            if free:
                spare.remove(free[0])
                points[free[0]], hit[free[0]] = candidate, reached
            break
    return points


def _branches_at(branches: set, ip: Instance, iq: Instance | None, pp: Instance, qq: Instance | None) -> set:
    """The (Piecewise, index) pairs whose branch is taken at the point: its condition the first to hold."""
    from .result import roles
    subs = {k: v for inst, suffix in roles(pp, qq if iq is not None else None)
            for k, v in inst.substitutions(suffix).items()}
    taken = set()
    for pw in {pw for pw, _ in branches}:
        for j, (_, condition) in enumerate(pw.args):
            holds = condition.subs(subs)
            if holds is sp.true:
                taken.add((pw, j))
            if holds is not sp.false:
                break
    return taken & branches


def _fill(inst: Instance, rng: random.Random, edge: bool = False) -> tuple:
    """Given values kept, the others drawn from their domains (and relations: low < high, sum to 1)."""
    fam = inst.family
    for _ in range(100):
        values = tuple(v if v is not None and not isinstance(v, str) else sample_value(p.domain, rng, edge)
                       for p, v in zip(fam.params, inst.bound))
        if fam.name == "categorical" and None in inst.bound:
            total = sum(values)
            values = tuple(v / total for v in values)
        if not fam.violations({p.name: v for p, v in zip(fam.params, values)}):
            return values
    raise ValueError(f"could not draw valid parameters for {inst.label}")
