"""The catalog: every family pair derived (in parallel, into the cache) and summarized as a P-by-Q matrix."""
from __future__ import annotations

import json
from concurrent.futures import ProcessPoolExecutor

from .families import CONTINUOUS, DISCRETE, categorical
from .families.multivariate import diagnormal, dirichlet, mvnormal, mvnormal_general

SYMBOLS = {"closed": "=", "conditional": "?", "infinite": "oo", "no-closed-form": "-"}


def groups():
    """The families whose pairs are derived: continuous with continuous, discrete with discrete (K = 3), and
    vectors with vectors on the same space (the simplex, R^2, R^d in matrix symbols)."""
    return [list(CONTINUOUS), list(DISCRETE) + [categorical(3)], [dirichlet(3)], [diagnormal(2), mvnormal(2)],
            [mvnormal_general()]]


def jobs(rows: frozenset | None = None):
    """Every (quantity, P, Q) the catalog holds, as labels a worker process can look up; with ``rows`` (family
    labels), only those P's: their entropies and their KL and cross-entropy against their whole group."""
    out = []
    for group in groups():
        ps = [f for f in group if rows is None or f.label in rows]
        out += [("entropy", f.label, None) for f in ps]
        out += [(qty, p.label, q.label) for p in ps for q in group for qty in ("kl", "cross_entropy")]
    return out


def row_labels(specs: list[str]) -> frozenset:
    """The catalog labels of the families named (aliases and sizes as the specs take them); a FamilyError names
    one that is not in the catalog."""
    from .family import FamilyError
    from .spec import instance
    known = {f.label for group in groups() for f in group}
    labels = frozenset(instance(s).family.label for s in specs)
    missing = sorted(labels - known)
    if missing:
        raise FamilyError(f"not in the catalog's matrix: {', '.join(missing)} "
                          f"(its families: {', '.join(sorted(known))})")
    return labels


def _derive(job):
    from . import cache
    from .spec import instance
    quantity, p, q = job
    d = cache.derivation(quantity, instance(p).family, instance(q).family if q else None)
    return job, d.status


def _derive_pair(pair_jobs):
    return [_derive(job) for job in pair_jobs]


def _by_pair(all_jobs) -> list[list]:
    """The jobs grouped by (P, Q), in order: one process derives a pair's KL and cross-entropy, so the second
    reuses the first's expectations (a failing integral is tried once, not once per quantity)."""
    groups: dict = {}
    for job in all_jobs:
        groups.setdefault(job[1:], []).append(job)
    return list(groups.values())


def derive_all(workers: int = 2, rows: frozenset | None = None) -> dict:
    """Derive every job, or the jobs of ``rows`` (parallel over processes; each stores its results in the on-disk
    cache)."""
    if workers <= 1:
        return dict(map(_derive, jobs(rows)))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return dict(job for group in pool.map(_derive_pair, _by_pair(jobs(rows)), chunksize=1) for job in group)


def summary(as_json: bool = False, workers: int = 2, rows: frozenset | None = None) -> str:
    """A matrix of KL(P||Q) statuses for each group (only the ``rows`` P's, when given), and counts by status."""
    statuses = derive_all(workers, rows)
    if as_json:
        return json.dumps([{"quantity": k[0], "p": k[1], "q": k[2], "status": v} for k, v in statuses.items()],
                          indent=2)
    lines = ["KL(P||Q) for every pair: '=' closed form, '?' finite under a condition, 'oo' infinite, "
             "'-' no closed form found. Rows P, columns Q.", ""]
    for group in groups():
        labels = [f.label for f in group]
        shown = [p for p in labels if rows is None or p in rows]
        if not shown:
            continue
        width = max(map(len, labels))
        lines.append("columns: " + ", ".join(f"{i} {lab}" for i, lab in enumerate(labels, 1)))
        lines.append(" " * width + "".join(f"{i:>4}" for i in range(1, len(labels) + 1)))
        for p in shown:
            row = [SYMBOLS[statuses[("kl", p, q)]] for q in labels]
            lines.append(f"{p:<{width}}" + "".join(f"{s:>4}" for s in row))
        lines.append("")
    counts = {}
    for (qty, _, _), status in statuses.items():
        counts.setdefault(qty, {}).setdefault(status, 0)
        counts[qty][status] += 1
    for qty, c in counts.items():
        lines.append(f"{qty}: " + ", ".join(f"{n} {s}" for s, n in sorted(c.items())))
    return "\n".join(lines)
