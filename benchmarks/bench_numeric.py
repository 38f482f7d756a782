"""Throughput and accuracy of Result.numeric() against torch.distributions and handwritten numpy.

    pip install ".[bench]"   # torch==2.13.0 (CPU)
    python benchmarks/bench_numeric.py

Prints two Markdown tables: milliseconds for 1e6 parameter rows (best of 15; symkl and torch on 2 threads), and
for every catalog pair with a closed form, the worst relative error against the closed form at 60 digits (same
float64 inputs) in each regime of the stress grid, with torch.distributions' worst beside it where torch has
the pair.
"""
from __future__ import annotations

import random
import time

import numpy as np
import sympy
from scipy import special

from symkl import kl
from symkl.catalog import groups
from symkl.numeric import REGIMES, relative_errors, stress_points

N = 1_000_000
rng = np.random.default_rng(0)


def handwritten():
    """The formulas as a person would type them in numpy (the speed reference, not the accuracy one)."""
    return {
        "normal": lambda m1, s1, m2, s2: np.log(s2 / s1) + (s1**2 + (m1 - m2)**2) / (2 * s2**2) - 0.5,
        "gamma": lambda a1, b1, a2, b2: ((a1 - a2) * special.psi(a1) - special.gammaln(a1) + special.gammaln(a2)
                                         + a2 * np.log(b1 / b2) + a1 * (b2 - b1) / b1),
        "beta": lambda a1, b1, a2, b2: (special.betaln(a2, b2) - special.betaln(a1, b1)
                                        + (a1 - a2) * special.psi(a1) + (b1 - b2) * special.psi(b1)
                                        + (a2 - a1 + b2 - b1) * special.psi(a1 + b1)),
        "bernoulli": lambda p, q: p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q)),
    }


def rows(name):
    if name == "normal":
        return [rng.normal(size=N), rng.uniform(0.1, 3, N), rng.normal(size=N), rng.uniform(0.1, 3, N)]
    if name == "bernoulli":
        return [rng.uniform(0.01, 0.99, N), rng.uniform(0.01, 0.99, N)]
    return [rng.uniform(0.1, 10, N) for _ in range(4)]


TORCH = {"normal": "Normal", "lognormal": "LogNormal", "exponential": "Exponential", "gamma": "Gamma",
         "beta": "Beta", "uniform": "Uniform", "laplace": "Laplace", "bernoulli": "Bernoulli", "binomial": "Binomial",
         "geometric": "Geometric", "poisson": "Poisson", "categorical[3]": "Categorical"}


def torch_distribution(name, arrays):
    """The torch distribution for a symkl family, parameters in symkl's order (probabilities as probs=)."""
    import torch
    from torch import distributions as D
    t = [torch.as_tensor(a, dtype=torch.float64) for a in arrays]
    if name in ("bernoulli", "geometric"):
        return getattr(D, TORCH[name])(probs=t[0])
    if name == "binomial":
        return D.Binomial(t[0], probs=t[1])
    if name == "categorical[3]":
        return D.Categorical(probs=torch.stack(t, -1))
    return getattr(D, TORCH[name])(*t)


def torch_kl(p, q, args, split):
    """kl_divergence(P, Q) for the rows in args (P's parameters first); NotImplementedError where torch has
    no such pair."""
    from torch.distributions import kl_divergence
    if p not in TORCH or q not in TORCH:
        raise NotImplementedError
    return lambda: kl_divergence(torch_distribution(p, args[:split]), torch_distribution(q, args[split:]))


def best_of(fn, repeat=15):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times) * 1e3


def throughput():
    try:
        import torch
        torch.set_num_threads(2)
    except ImportError:
        torch = None
    print("| pair | symkl numeric() ms | handwritten numpy ms | torch ms |\n|---|---|---|---|")
    for name, hand in handwritten().items():
        args = rows(name)
        f = kl(name, name).numeric()
        t_symkl = best_of(lambda: f(*args))
        t_hand = best_of(lambda: hand(*args))
        t_torch = f"{best_of(torch_kl(name, name, args, len(args) // 2)):.1f}" if torch else "(torch not installed)"
        print(f"| {name}||{name} | {t_symkl:.1f} | {t_hand:.1f} | {t_torch} |")


def accuracy(workers: int = 2):
    """Worst relative error per regime of the stress grid, for every pair with a closed form; torch beside."""
    from concurrent.futures import ProcessPoolExecutor
    pairs = [(fp.label, fq.label) for group in groups() for fp in group for fq in group]
    print("\n| pair | general | near | extreme | boundary | P = Q | torch (worst of all) |\n|---|---|---|---|---|---|---|")
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for row in pool.map(accuracy_row, pairs):
            if row:
                print(row, flush=True)


def accuracy_row(pair) -> str | None:
    """One row of the accuracy table (None for a pair without a finite closed form)."""
    p, q = pair
    r = kl(p, q)
    if r.expr is None or r.status == "infinite" or any(isinstance(s, sympy.MatrixSymbol) for s in r.symbols):
        return None
    regimes = stress_points(r.symbols, r.domains(), random.Random(0), 12, r.identities(), r.finite_point)
    f = r.numeric()
    ours = {k: relative_errors(f, r.expr, r.symbols, pts, r.domains()) for k, pts in regimes.items()}
    try:
        split = len(roles_symbols(r))
        pts = [pt for pts in regimes.values() for pt in pts]
        theirs = max(relative_errors(lambda *a: torch_kl(p, q, a, split)().numpy(), r.expr, r.symbols, pts,
                                     r.domains()))
        theirs = f"{theirs:.1e}"
    except (ImportError, NotImplementedError, ValueError, RuntimeError):
        theirs = "—"
    cells = [f"{max(ours[k]):.1e}" if ours.get(k) else "" for k in REGIMES]
    return f"| {p}||{q} | " + " | ".join(cells) + f" | {theirs} |"


def roles_symbols(r):
    """P's symbols among the result's (they come first)."""
    return [s for s in r.symbols if s.name.endswith("_p")]


if __name__ == "__main__":
    throughput()
    accuracy()
