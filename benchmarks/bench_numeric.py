"""Throughput and accuracy of Result.numeric() against torch.distributions and handwritten numpy.

    pip install ".[bench]"   # torch==2.13.0 (CPU)
    python benchmarks/bench_numeric.py

Prints two Markdown tables: milliseconds for 1e6 parameter rows (best of 5; torch with 2 threads), and the worst
relative error against mpmath (50 digits, same float64 inputs) over general and near-diagonal points.
"""
from __future__ import annotations

import random
import time

import mpmath
import numpy as np
from scipy import special

from symkl import kl
from symkl.numeric import _errors, _truth

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


def torch_kl(name, args):
    import torch
    from torch.distributions import Bernoulli, Beta, Gamma, Normal, kl_divergence
    t = [torch.from_numpy(a) for a in args]
    make = {"normal": lambda a, b: Normal(a, b), "gamma": lambda a, b: Gamma(a, b), "beta": lambda a, b: Beta(a, b),
            "bernoulli": lambda p: Bernoulli(probs=p)}[name]
    half = len(t) // 2
    return lambda: kl_divergence(make(*t[:half]), make(*t[half:]))


def best_of(fn, repeat=5):
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
        t_torch = f"{best_of(torch_kl(name, args)):.1f}" if torch else "(torch not installed)"
        print(f"| {name}||{name} | {t_symkl:.1f} | {t_hand:.1f} | {t_torch} |")


def accuracy():
    """Worst relative error over 400 points: half general, half with Q = P(1 + d), |d| in 1e-12..1e-2."""
    print("\n| pair | symkl worst rel. error | torch worst rel. error |\n|---|---|---|")
    prng = random.Random(0)
    for name in ("normal", "gamma", "beta", "bernoulli"):
        r = kl(name, name)
        pts = []
        for i in range(400):
            p = [prng.uniform(0.05, 0.95)] if name == "bernoulli" else (
                [prng.uniform(-3, 3), 10 ** prng.uniform(-1, 1)] if name == "normal"
                else [10 ** prng.uniform(-1, 1), 10 ** prng.uniform(-1, 1)])
            d = 10 ** prng.uniform(-12, -2)
            q = [v * (1 + d) for v in p] if i % 2 else [v * prng.choice((0.6, 0.8, 1.25, 1.5)) for v in p]
            q = [min(v, 0.99) for v in q] if name == "bernoulli" else q
            pts.append(tuple(p + q))
        truth = _truth(r.expr, r.symbols, pts)
        ours = max(_errors(r.numeric(), truth, pts))
        try:
            tfn = lambda *a: torch_kl(name, [np.asarray(x, dtype=float) for x in a])().numpy()  # noqa: E731
            theirs = f"{max(_errors(tfn, truth, pts)):.1e}"
        except ImportError:
            theirs = "(torch not installed)"
        print(f"| {name}||{name} | {ours:.1e} | {theirs} |")


if __name__ == "__main__":
    with mpmath.workdps(15):
        throughput()
        accuracy()
