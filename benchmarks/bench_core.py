"""Core timings, printed as the Markdown table the README quotes.

    python benchmarks/bench_core.py [--baseline] [--single] [--check]

Rows: deriving the whole catalog from an empty cache (2 processes; with --single 1 too), a cached query in a new
process (`symkl kl normal normal`, import time included), with --check `symkl check --all` on 2 processes, and
with --baseline plain sympy.integrate(p*log(p/q)) for normal||normal, the approach the expectation engine
replaces. Then the count of catalog quantities by status (and by check status with --check).
"""
from __future__ import annotations

import collections
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


def timed(cmd: list[str], env: dict, out: list | None = None) -> float:
    """Seconds the command took; its stdout appended to ``out`` when given."""
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, text=True)
    if done.returncode not in (0, 1):  # check --all exits 1 when something failed: the counts show it
        raise SystemExit(f"{' '.join(cmd)} exited {done.returncode}")
    if out is not None:
        out.append(done.stdout)
    return time.perf_counter() - start


def baseline_integrate() -> float:
    import sympy as sp
    x, mp, mq = sp.symbols("x mu_p mu_q", real=True)
    sp_, sq = sp.symbols("sigma_p sigma_q", positive=True)
    p = sp.exp(-(x - mp)**2 / (2 * sp_**2)) / (sp.sqrt(2 * sp.pi) * sp_)
    q = sp.exp(-(x - mq)**2 / (2 * sq**2)) / (sp.sqrt(2 * sp.pi) * sq)
    start = time.perf_counter()
    sp.integrate(p * sp.expand_log(sp.log(p / q), force=True), (x, -sp.oo, sp.oo))
    return time.perf_counter() - start


def main() -> None:
    symkl = [sys.executable, "-m", "symkl.cli"] if not os.environ.get("SYMKL_BIN") else [os.environ["SYMKL_BIN"]]
    rows, statuses, checks = [], [], []
    for workers in (2, 1) if "--single" in sys.argv else (2,):
        env = {**os.environ, "SYMKL_CACHE_DIR": tempfile.mkdtemp()}
        rows.append((f"derive the catalog from an empty cache, {workers} process(es)",
                     timed(symkl + ["catalog", "--json", "--workers", str(workers)], env, statuses),
                     "<= 120 s" if workers == 2 else ""))
    if "--check" in sys.argv:
        rows.append(("`symkl check --all`, 2 processes (5 points per quantity)",
                     timed(symkl + ["check", "--all", "--json", "--workers", "2"], env, checks), "<= 300 s"))
    env = {**os.environ, "SYMKL_CACHE_DIR": tempfile.mkdtemp()}
    timed(symkl + ["kl", "normal", "normal"], env)
    runs = [timed(symkl + ["kl", "normal", "normal"], env) for _ in range(5)]
    rows.append(("cached `symkl kl normal normal` in a new process (median of 5)", statistics.median(runs), "<= 1 s"))
    if "--baseline" in sys.argv:
        rows.append(("plain sympy.integrate(p*log(p/q)), normal||normal (for comparison)", baseline_integrate(), ""))
    print("| what | seconds | target |\n|---|---|---|")
    for what, seconds, target in rows:
        print(f"| {what} | {seconds:.2f} | {target} |")
    print("\n| quantity | " + " | ".join(STATUSES) + " |")
    print("|---" * (len(STATUSES) + 1) + "|")
    for quantity, counts in _counts(json.loads(statuses[0])).items():
        print(f"| {quantity} | " + " | ".join(str(counts[s]) for s in STATUSES) + " |")
    if checks:
        counts = collections.Counter(r["status"] for r in json.loads(checks[0]))
        digits = [r["digits"] for r in json.loads(checks[0]) if r["digits"] is not None]
        print(f"\ncheck --all: {dict(counts)}; worst verified point {min(digits, default=0):.1f} digits")


STATUSES = ("closed", "conditional", "infinite", "no-closed-form")


def _counts(records: list) -> dict:
    out = {}
    for r in records:
        out.setdefault(r["quantity"], collections.Counter())[r["status"]] += 1
    return out


if __name__ == "__main__":
    main()
