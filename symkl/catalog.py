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


def jobs():
    """Every (quantity, P, Q) the catalog holds, as labels a worker process can look up."""
    out = []
    for group in groups():
        out += [("entropy", f.label, None) for f in group]
        # every KL before any cross-entropy: a term no rule reaches is then remembered (on disk) by the time the
        # same pair's cross-entropy asks for it, instead of both workers spending the same budget at once
        out += [(qty, p.label, q.label) for qty in ("kl", "cross_entropy") for p in group for q in group]
    return out


def _derive(job):
    from . import cache
    from .spec import instance
    quantity, p, q = job
    d = cache.derivation(quantity, instance(p).family, instance(q).family if q else None)
    return job, d.status


def derive_all(workers: int = 2) -> dict:
    """Derive every job (parallel over processes; each stores its results in the on-disk cache)."""
    if workers <= 1:
        return dict(map(_derive, jobs()))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return dict(pool.map(_derive, jobs(), chunksize=1))


def summary(as_json: bool = False, workers: int = 2) -> str:
    """A matrix of KL(P||Q) statuses for each group, and counts by status."""
    statuses = derive_all(workers)
    if as_json:
        return json.dumps([{"quantity": k[0], "p": k[1], "q": k[2], "status": v} for k, v in statuses.items()],
                          indent=2)
    lines = ["KL(P||Q) for every pair: '=' closed form, '?' finite under a condition, 'oo' infinite, "
             "'-' no closed form found. Rows P, columns Q.", ""]
    for group in groups():
        labels = [f.label for f in group]
        width = max(map(len, labels))
        lines.append(" " * (width + 1) + " ".join(f"{lab[:5]:>5}" for lab in labels))
        for p in labels:
            row = [SYMBOLS[statuses[("kl", p, q)]] for q in labels]
            lines.append(f"{p:<{width}} " + " ".join(f"{s:>5}" for s in row))
        lines.append("")
    counts = {}
    for (qty, _, _), status in statuses.items():
        counts.setdefault(qty, {}).setdefault(status, 0)
        counts[qty][status] += 1
    for qty, c in counts.items():
        lines.append(f"{qty}: " + ", ".join(f"{n} {s}" for s, n in sorted(c.items())))
    return "\n".join(lines)
