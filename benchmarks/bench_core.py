"""Core timings, printed as the Markdown table the README quotes.

    python benchmarks/bench_core.py [--baseline]

Rows: deriving the whole catalog from an empty cache (2 processes, and 1), a cached query in a new process
(`symkl kl normal normal`, import time included), and with --baseline plain sympy.integrate(p*log(p/q)) for
normal||normal, the approach the expectation engine replaces.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time


def timed(cmd: list[str], env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
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
    rows = []
    for workers in (2, 1):
        env = {**os.environ, "SYMKL_CACHE_DIR": tempfile.mkdtemp()}
        rows.append((f"derive the catalog from an empty cache, {workers} process(es)",
                     timed(symkl + ["catalog", "--workers", str(workers)], env), "<= 20 s" if workers == 2 else ""))
    env = {**os.environ, "SYMKL_CACHE_DIR": tempfile.mkdtemp()}
    timed(symkl + ["kl", "normal", "normal"], env)
    runs = [timed(symkl + ["kl", "normal", "normal"], env) for _ in range(5)]
    rows.append(("cached `symkl kl normal normal` in a new process (median of 5)", statistics.median(runs), "<= 1 s"))
    if "--baseline" in sys.argv:
        rows.append(("plain sympy.integrate(p*log(p/q)), normal||normal (for comparison)", baseline_integrate(), ""))
    print("| what | seconds | target |\n|---|---|---|")
    for what, seconds, target in rows:
        print(f"| {what} | {seconds:.2f} | {target} |")


if __name__ == "__main__":
    main()
