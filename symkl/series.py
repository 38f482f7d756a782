"""Numeric sums of the series the engine keeps exact (E[log X!] under a Poisson or a binomial).

Summing from the lower limit fails twice over for a pmf-weighted series: the terms near it can be negligible
(Poisson(1000) at k = 0 is e**-1000), so a stopping rule meets a tiny partial sum and stops, and an extrapolating
summation (mpmath.nsum) is misled the same way. Both versions here find the largest term first (doubling, then a
ternary search: the terms rise and fall once) and sum outward from it until the terms fall below the target.
"""
from __future__ import annotations

import mpmath
import numpy as np

RUN = 4  # consecutive negligible, non-increasing terms that end a direction
MAX_TERMS = 1 << 16  # per direction, for the vectorized version (rows left over are nan)
WIDEST = 1 << 12  # terms per row in one block of the vectorized version
NEGLIGIBLE = 1e-17  # a term this small relative to the sum so far ends a direction (with RUN)
MPMATH_MAX_TERMS = 1 << 20  # per direction, for the mpmath version (beyond: ValueError, never a hang)


def mpmath_sum(term, a, b, max_terms: int = MPMATH_MAX_TERMS):
    """sum(term(k) for k = a..b) at mpmath's working precision; b may be mpmath.inf. A series needing more than
    max_terms on one side of its largest term raises ValueError."""
    a = int(a)
    too_long = f"the series needs more than {max_terms} terms on one side of its largest"
    eps = mpmath.mpf(2) ** (-mpmath.mp.prec - 10)
    top = _peak(lambda k: abs(term(mpmath.mpf(k))), a, b)
    total = term(mpmath.mpf(top))
    for far in (top + max_terms, top - max_terms):  # see _beyond_reach: the same answer, at once
        if a <= far <= b and abs(term(mpmath.mpf(far))) > eps * (2 * max_terms + 1) * abs(total):
            raise ValueError(too_long)
    for step in (1, -1):
        k, run, previous = top + step, 0, mpmath.inf
        while a <= k <= b and run < RUN:
            if abs(k - top) > max_terms:
                raise ValueError(too_long)
            t = term(mpmath.mpf(k))
            total += t
            run = run + 1 if abs(t) <= eps * abs(total) and abs(t) <= previous else 0
            previous, k = abs(t), k + step
    return total


def _peak(size, a: int, b) -> int:
    """The k in [a, b] with the largest size(k), for sizes that rise and then fall."""
    probes = [a + 2**j - 1 for j in range(64) if a + 2**j - 1 <= b]
    values = [size(k) for k in probes]
    i = max(range(len(probes)), key=values.__getitem__)
    lo = probes[i - 1] if i else a
    hi = probes[i + 1] if i + 1 < len(probes) else (int(b) if b != mpmath.inf else probes[i])
    while hi - lo > 2:
        m1, m2 = lo + (hi - lo) // 3, hi - (hi - lo) // 3
        if size(m1) < size(m2):
            lo = m1
        else:
            hi = m2
    return max(range(lo, hi + 1), key=size)


def numpy_sum(term, a, b, log_size):
    """The same for float64 arrays of rows at once: term(k) with k an array (one k per row), and term(k, rows=r)
    with k of shape (len(r), width) for the flat rows r; log_size(k) the log of its size (the largest term is
    found by it: the terms themselves underflow to 0 far from it); a, b arrays (b may be inf). Rows not
    finished within MAX_TERMS per direction are nan."""
    a = np.asarray(a, dtype=float)
    b = np.broadcast_to(np.asarray(b, dtype=float), a.shape)
    with np.errstate(all="ignore"):
        probes = a[..., None] + 2.0 ** np.arange(64) - 1
        inside = probes <= b[..., None]
        sizes = np.where(inside, np.nan_to_num(log_size(probes, expand=True), nan=-np.inf), -np.inf)
        i = np.argmax(sizes, axis=-1)
        last = np.maximum(inside.sum(axis=-1) - 1, 0)
        lo = np.where(i > 0, np.take_along_axis(probes, np.maximum(i - 1, 0)[..., None], -1)[..., 0], a)
        hi_probe = np.take_along_axis(probes, np.minimum(i + 1, last)[..., None], -1)[..., 0]
        hi = np.where(i + 1 <= last, hi_probe, np.where(np.isfinite(b), b, hi_probe))
        size = lambda k: np.nan_to_num(log_size(k), nan=-np.inf)  # noqa: E731
        while np.any(hi - lo > 2):
            m1, m2 = lo + np.floor((hi - lo) / 3), hi - np.floor((hi - lo) / 3)
            rising = size(m1) < size(m2)
            wide = hi - lo > 2
            lo, hi = np.where(wide & rising, m1, lo), np.where(wide & ~rising, m2, hi)
        top = lo.copy()
        for offset in (1.0, 2.0):
            k = np.minimum(lo + offset, hi)
            top = np.where(size(k) > size(top), k, top)
        shape = a.shape
        flat = lambda x: np.broadcast_to(x, shape).reshape(-1)  # noqa: E731
        total, unfinished = flat(term(top)).copy(), flat(_beyond_reach(size, top, a, b)).copy()
        for step in (1.0, -1.0):
            unfinished |= _walk(term, flat(top), flat(a), flat(b), step, total, ~unfinished)
        return np.where(unfinished, np.nan, total).reshape(shape)


def _beyond_reach(size, top, a, b):
    """The rows whose sum cannot end within MAX_TERMS on some side: the term MAX_TERMS past the largest is still
    above NEGLIGIBLE times the most the sum can reach there ((2 MAX_TERMS + 1) largest terms), so, the terms
    rising and falling once, none before it is negligible either. Such a row would come out nan after MAX_TERMS
    steps of the whole array (geometric(1e-12): minutes over a sample); it is nan at once."""
    limit = size(top) + np.log(NEGLIGIBLE * (2 * MAX_TERMS + 1))
    out = np.zeros(np.shape(top), dtype=bool)
    for step in (1.0, -1.0):
        far = top + step * MAX_TERMS
        out |= (far >= a) & (far <= b) & (size(far) > limit)
    return out


def _walk(term, top, a, b, step, total, rows_on):
    """Add to total (in place) the terms from top + step outward, for the rows on, until RUN consecutive terms
    are negligible and non-increasing (the rule of mpmath_sum, term by term) or k leaves [a, b]; the rows
    still going after MAX_TERMS are returned. Blocks of doubling width, each over the rows still going
    (term(k, rows=...)): one term per step over all rows took 2.5 s a sum where a row needed 3e4 terms."""
    k = top + step
    active = rows_on & (k >= a) & (k <= b)
    run, previous = np.zeros(top.shape), np.full(top.shape, np.inf)
    taken, width = 0, 8
    while np.any(active) and taken < MAX_TERMS:
        rows, j = np.flatnonzero(active), np.arange(min(width, MAX_TERMS - taken))
        ks = k[rows, None] + step * j
        inside = (ks >= a[rows, None]) & (ks <= b[rows, None])
        t = np.where(inside, term(ks, rows=rows), 0.0)  # 0 past an end: adding it changes nothing
        size = np.abs(t)
        before = np.concatenate([previous[rows, None], size[:, :-1]], axis=-1)
        negligible = (size <= NEGLIGIBLE * np.abs(total[rows, None] + np.cumsum(t, axis=-1))) & (size <= before)
        reset = np.maximum.accumulate(np.where(negligible, -1, j), axis=-1)
        runs = np.where(reset < 0, run[rows, None] + j + 1, j - reset)
        ends = (runs >= RUN) | ~inside
        ended = ends.any(axis=-1)
        last = np.where(ended, ends.argmax(axis=-1), j[-1])
        total[rows] += np.where(j <= last[:, None], t, 0.0).sum(axis=-1)
        run[rows], previous[rows] = runs[:, -1], size[:, -1]
        k[rows] += step * len(j)
        active[rows] = ~ended
        taken, width = taken + len(j), min(2 * width, WIDEST)
    return active
