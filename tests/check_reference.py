"""Check tests/reference.py against direct numerical integration / summation.

A script, not a test module (pytest does not collect check_*.py):

    /work/venv/bin/python tests/check_reference.py [--points N] [--seed S] [--dps D]

For each family's entropy, and for every ordered pair's cross-entropy and KL
(continuous 7x7, discrete 5x5 with categorical K = 3), at a few random
parameter points (both regimes for pairs whose finiteness depends on the
parameters), it compares the reference with

* continuous: mpmath.quad (tanh-sinh) of -p(x) log q(x) and
  p(x) (log p(x) - log q(x)), written with pointwise log-densities typed
  here independently, split at support ends, modes/locations, kinks and
  scale multiples; intervals touching x = 1 are integrated in 1 - x so
  log(1 - x) keeps full relative precision;
* discrete: direct summation over the support, truncated once the remaining
  tail mass is below 10^-(dps+10);
* infinite references: the P-mass outside Q's support is computed
  numerically and must be positive.

It also checks the same-family closed forms (reference.kl_closed_form)
against both the quadrature and reference.kl.  Prints the number of agreeing
significant digits per item and the worst case; exits non-zero if any item
agrees to fewer than --min-digits (default 20).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import mpmath
from mpmath import mp, mpf, inf, log, exp, pi, sqrt, loggamma

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference as R  # noqa: E402


# ---------------------------------------------------------------------------
# pointwise log-densities, typed independently of reference.py
# each takes (x, omx) with omx == 1 - x (exact where it matters)
# ---------------------------------------------------------------------------
def logpdf(fam, p, x, omx):
    if fam == "normal":
        m, s = p
        return -((x - m) ** 2) / (2 * s**2) - log(s) - log(2 * pi) / 2
    if fam == "lognormal":
        m, s = p
        if x <= 0:
            return -inf
        lx = log(x)
        return -((lx - m) ** 2) / (2 * s**2) - lx - log(s) - log(2 * pi) / 2
    if fam == "exponential":
        (r,) = p
        return log(r) - r * x if x >= 0 else -inf
    if fam == "gamma":
        k, r = p
        if x <= 0:
            return -inf
        return k * log(r) + (k - 1) * log(x) - r * x - loggamma(k)
    if fam == "beta":
        a, b = p
        if x <= 0 or omx <= 0:
            return -inf
        return ((a - 1) * log(x) + (b - 1) * log(omx)
                - (loggamma(a) + loggamma(b) - loggamma(a + b)))
    if fam == "uniform":
        l, h = p
        return -log(h - l) if l <= x <= h else -inf
    if fam == "laplace":
        m, b = p
        return -abs(x - m) / b - log(2 * b)
    raise KeyError(fam)


def support(fam, p):
    if fam in ("normal", "laplace"):
        return (-inf, inf)
    if fam in ("lognormal", "exponential", "gamma"):
        return (mpf(0), inf)
    if fam == "beta":
        return (mpf(0), mpf(1))
    if fam == "uniform":
        return (p[0], p[1])
    raise KeyError(fam)


def breakpoints(fam, p):
    """Interior points where P's density changes character (mode, scale)."""
    if fam == "normal":
        m, s = p
        return [m + k * s for k in range(-10, 11)]
    if fam == "laplace":
        m, b = p
        return [m + k * b for k in (-40, -20, -10, -5, -2, -1, 0, 1, 2, 5, 10, 20, 40)]
    if fam == "lognormal":
        m, s = p
        return [exp(m + k * s) for k in range(-10, 11)]
    if fam == "exponential":
        (r,) = p
        return [k / r for k in (0.5, 1, 2, 5, 10, 20, 40, 80)]
    if fam == "gamma":
        k, r = p
        pts = [t / r for t in (0.1, 0.5, 1, 2, 5, 10, 20, 40, 80, 120)]
        pts += [(k + t * sqrt(k)) / r for t in range(-6, 12)]
        if k > 1:
            pts.append((k - 1) / r)
        return pts
    if fam == "beta":
        a, b = p
        pts = [mpf(1) / 2, mpf(1) / 4, mpf(3) / 4, mpf(1) / 100, mpf(99) / 100]
        if a > 1 and b > 1:
            pts.append((a - 1) / (a + b - 2))
        return pts
    if fam == "uniform":
        return []
    raise KeyError(fam)


def q_kinks(fam, p):
    if fam == "laplace":
        return [p[0]]
    if fam == "uniform":
        return [p[0], p[1]]
    if fam in ("lognormal", "gamma", "exponential", "beta"):
        return [mpf(0), mpf(1)]
    return []


def integrate(f, fp, pp, extra, lo=None, hi=None):
    """Integrate f(x, omx) over the support of P (or [lo, hi] within it)."""
    slo, shi = support(fp, pp)
    lo = slo if lo is None else max(lo, slo)
    hi = shi if hi is None else min(hi, shi)
    if not lo < hi:
        return mpf(0)
    pts = sorted(set([lo, hi] + [x for x in breakpoints(fp, pp) + extra if lo < x < hi]))
    total = mpf(0)
    for a, b in zip(pts[:-1], pts[1:]):
        if a == -inf:
            total += mpmath.quad(lambda x: f(x, 1 - x), [a, b])
        elif b == inf:
            total += mpmath.quad(lambda x: f(x, 1 - x), [a, b])
        else:
            # split at the midpoint; integrate the halves from their outer
            # ends so that x - a and b - x are exact (x = 0 and 1 - x at
            # x = 1), in t = u^4: tanh-sinh's nodes stop about 10^-dps from
            # an end, which would miss ~eps^a of an x^(a-1) singularity
            # (beta/gamma shapes < 1); in u the miss is ~eps^(4a).
            m = (a + b) / 2
            total += mpmath.quad(lambda u: 4 * u**3 * f(a + u**4, (1 - a) - u**4),
                                 [0, mpmath.root(m - a, 4)])
            total += mpmath.quad(lambda u: 4 * u**3 * f(b - u**4, (1 - b) + u**4),
                                 [0, mpmath.root(b - m, 4)])
    return total


def cont_numeric(fp, pp, fq, qp):
    """(cross-entropy, kl, entropy) by quadrature; inf where Q misses mass."""
    extra = q_kinks(fq, qp)

    def dens(x, omx):
        return exp(logpdf(fp, pp, x, omx))

    # mass of P outside supp Q
    qlo, qhi = support(fq, qp)
    outside = mpf(0)
    if qlo > -inf:
        outside += integrate(dens, fp, pp, extra, hi=qlo)
    if qhi < inf:
        outside += integrate(dens, fp, pp, extra, lo=qhi)
    ent = integrate(lambda x, o: -dens(x, o) * logpdf(fp, pp, x, o), fp, pp, extra)
    if outside > mpf(10) ** (-mp.dps):
        return inf, inf, ent, outside
    ce = integrate(lambda x, o: -dens(x, o) * logpdf(fq, qp, x, o), fp, pp, extra)

    def kl_f(x, o):
        lp = logpdf(fp, pp, x, o)
        return exp(lp) * (lp - logpdf(fq, qp, x, o))

    klv = integrate(kl_f, fp, pp, extra)
    return ce, klv, ent, outside


# ---------------------------------------------------------------------------
# pointwise log-pmfs, typed independently of reference.py
# ---------------------------------------------------------------------------
def logpmf(fam, p, k):
    if fam == "bernoulli":
        (q,) = p
        if k == 1:
            return log(q) if q > 0 else -inf
        if k == 0:
            return log(1 - q) if q < 1 else -inf
        return -inf
    if fam == "binomial":
        n, q = int(p[0]), p[1]
        if not 0 <= k <= n:
            return -inf
        lc = loggamma(n + 1) - loggamma(k + 1) - loggamma(n - k + 1)
        if (q == 0 and k > 0) or (q == 1 and k < n):
            return -inf
        t1 = k * log(q) if k > 0 else mpf(0)
        t2 = (n - k) * log(1 - q) if n - k > 0 else mpf(0)
        return lc + t1 + t2
    if fam == "geometric":
        (q,) = p
        if k < 0:
            return -inf
        if q == 1:
            return mpf(0) if k == 0 else -inf
        return log(q) + k * log(1 - q)
    if fam == "poisson":
        (lam,) = p
        if k < 0:
            return -inf
        return k * log(lam) - lam - loggamma(k + 1)
    if fam == "categorical":
        if 1 <= k <= 3 and p[k - 1] > 0:
            return log(p[k - 1])
        return -inf
    raise KeyError(fam)


def disc_range(fam, p):
    """Range of k to sum over: everything with P-mass above 10^-(dps+10)."""
    eps = mpf(10) ** (-(mp.dps + 10))
    if fam == "bernoulli":
        return range(0, 2)
    if fam == "binomial":
        return range(0, int(p[0]) + 1)
    if fam == "categorical":
        return range(1, 4)
    if fam == "geometric":
        (q,) = p
        if q == 1:
            return range(0, 1)
        # tail P(K >= N) = (1-q)^N < eps
        N = int(mpmath.ceil(log(eps) / log(1 - q))) + 50
        return range(0, N)
    if fam == "poisson":
        (lam,) = p
        k = int(mpmath.ceil(lam)) + 1
        while logpmf(fam, p, k) > log(eps) - 10:
            k += 1
        return range(0, k + 20)
    raise KeyError(fam)


def disc_numeric(fp, pp, fq, qp):
    ce = mpf(0)
    klv = mpf(0)
    ent = mpf(0)
    outside = mpf(0)
    for k in disc_range(fp, pp):
        lp = logpmf(fp, pp, k)
        if lp == -inf:
            continue
        pk = exp(lp)
        lq = logpmf(fq, qp, k)
        ent -= pk * lp
        if lq == -inf:
            outside += pk
            continue
        ce -= pk * lq
        klv += pk * (lp - lq)
    if outside > 0:
        return inf, inf, ent, outside
    return ce, klv, ent, outside


# ---------------------------------------------------------------------------
def digits(ref, num):
    """Agreeing significant digits (absolute when the reference is ~0)."""
    if ref == inf or num == inf:
        return mpf(99) if ref == num else mpf(-1)
    err = abs(ref - num)
    if err == 0:
        return mpf(99)
    scale = abs(ref) if abs(ref) > mpf(10) ** -10 else mpf(1)
    return -mpmath.log10(err / scale)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", type=int, default=3)
    ap.add_argument("--seed", type=int, default=R.DEFAULT_SEED,
                    help="default: the seed tests/test_reference.py uses")
    ap.add_argument("--dps", type=int, default=30)
    ap.add_argument("--min-digits", type=float, default=20)
    ap.add_argument("--only", default=None, help="substring filter on item ids")
    args = ap.parse_args()

    mp.dps = args.dps + 10  # quadrature working precision
    results = []  # (id, digits)

    def record(item, d, info=""):
        results.append((item, d))
        flag = "" if d >= args.min_digits else "   <-- FAIL"
        print(f"{item:58s} {float(d):6.1f}  {info}{flag}", flush=True)

    t0 = time.time()
    # entropies
    for fam in R.FAMILIES:
        if args.only and args.only not in fam:
            continue
        for pp in R.family_points(fam, args.points, args.seed):
            ppm = tuple(mpf(v) for v in pp)
            with mp.workdps(args.dps):
                ref = R.entropy(fam, pp)
            if fam in R.CONTINUOUS:
                _, _, ent, _ = cont_numeric(fam, ppm, fam, ppm)
            else:
                _, _, ent, _ = disc_numeric(fam, ppm, fam, ppm)
            record(f"H[{R.spec(fam, pp)}]", digits(ref, ent))

    # pairs
    for fp, fq in R.ALL_PAIRS:
        pid = f"{fp}||{fq}"
        if args.only and args.only not in pid:
            continue
        pts, cond = R.points_for_pair(fp, fq, args.points, args.seed)
        for pp, qp in pts:
            ppm = tuple(mpf(v) for v in pp)
            qpm = tuple(mpf(v) for v in qp)
            with mp.workdps(args.dps):
                ref_ce = R.cross_entropy(fp, pp, fq, qp)
                ref_kl = R.kl(fp, pp, fq, qp)
                ref_cf = R.kl_closed_form(fp, pp, qp) if (
                    fp == fq and (fp != "binomial" or pp[0] == qp[0])) else None
            if fp in R.CONTINUOUS:
                ce, klv, ent, outside = cont_numeric(fp, ppm, fq, qpm)
            else:
                ce, klv, ent, outside = disc_numeric(fp, ppm, fq, qpm)
            tag = f"{R.spec(fp, pp)}||{R.spec(fq, qp)}"
            info = "" if ref_kl != inf else f"(inf; P-mass outside supp Q = {mpmath.nstr(outside, 5)})"
            if cond:
                info = "[conditional] " + info
            record(f"H  {tag}", digits(ref_ce, ce), info)
            record(f"KL {tag}", digits(ref_kl, klv), info)
            if ref_kl != inf and ref_kl < -mpf(10) ** (-args.dps):
                record(f"KL>=0 {tag}", mpf(-1), f"negative KL {ref_kl}")
            if ref_cf is not None:
                record(f"KLcf {tag} (vs quad)", digits(ref_cf, klv))
                record(f"KLcf {tag} (vs ref.kl)", digits(ref_cf, ref_kl))

    # boundary parameters (0 log 0, shrinking supports, shared support ends)
    boundary = R.BOUNDARY_CASES
    for fp, pp, fq, qp in boundary:
        if args.only and args.only not in f"{fp}||{fq}":
            continue
        ppm = tuple(mpf(v) for v in pp)
        qpm = tuple(mpf(v) for v in qp)
        with mp.workdps(args.dps):
            ref_ce = R.cross_entropy(fp, pp, fq, qp)
            ref_kl = R.kl(fp, pp, fq, qp)
            ref_h = R.entropy(fp, pp)
        num = cont_numeric if fp in R.CONTINUOUS else disc_numeric
        ce, klv, ent, _ = num(fp, ppm, fq, qpm)
        tag = f"{R.spec(fp, pp)}||{R.spec(fq, qp)}"
        info = f"[boundary] kl={mpmath.nstr(ref_kl, 8)}"
        record(f"H  {tag}", digits(ref_ce, ce), info)
        record(f"KL {tag}", digits(ref_kl, klv), info)
        record(f"H[{R.spec(fp, pp)}]", digits(ref_h, ent), info)

    worst = min(results, key=lambda r: r[1])
    n_fail = sum(1 for _, d in results if d < args.min_digits)
    finite = [d for _, d in results if d < 99]
    print()
    print(f"{len(results)} items checked in {time.time() - t0:.0f} s at {args.dps} digits")
    if finite:
        print(f"worst finite item: {min(finite, key=float)} digits "
              f"({worst[0]})")
    print(f"{n_fail} items below {args.min_digits} digits")
    return 1 if n_fail else 0


if __name__ == "__main__":
    sys.exit(main())
