"""The direction of KL: fitting one normal Q to a mixture P by KL(P||Q) (forward) and by KL(Q||P) (reverse).

Why: forward KL is mode-covering (Q spreads over every component: maximum likelihood, moment matching), reverse
KL is mode-seeking (Q settles on one component: variational inference). The forward fit has a closed form,
derived here: H(sum_i w_i P_i, Q) = sum_i w_i H(P_i, Q) by linearity, each H(P_i, Q) from the catalog, and the
stationarity equations solved by sympy (the mixture's mean and variance). The reverse fit has none: KL(Q||P)
= -H(Q) - E_Q[log p(X)] is minimised by scipy from several starts, E_Q[log p(X)] by deterministic quadrature
(scipy.integrate.quad at tight tolerances), and the best minimum's KL is re-evaluated with mpmath.

    >>> from symkl.ml.direction import direction
    >>> d = direction("0.5*normal(-2, 0.6) + 0.5*normal(2, 0.6)")
    >>> d.forward
    {mu_q: 0, sigma_q: sqrt(109)/5}
"""
from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass

import mpmath
import numpy as np
import sympy as sp

from .. import cache
from ..expectation import Step
from ..families import lookup
from ..family import FamilyError
from ..mixture import Mixture
from ..mixture import mixture as read_mixture
from ..quadrature import expectation_value
from ..spec import Instance
from .fit import numeric_argmin
from .stationary import digits, gradient, number, solve_stationary, tidy

DPS = 40
NORMAL = lookup("normal")


@dataclass(frozen=True)
class Direction:
    """The forward fit (closed form, general and at the values), the reverse fit (numeric, best of several
    starts), and each one's KL."""

    components: tuple
    forward_general: dict
    forward: dict
    forward_digits: float
    forward_kl: mpmath.mpf
    reverse: dict | None
    reverse_kl: mpmath.mpf | None
    reverse_note: str
    starts: tuple
    steps: tuple


def mixture(text: str) -> tuple[tuple[sp.Expr, Instance], ...]:
    """The (weight, component) pairs of a mixture written 'w1*spec1 + w2*spec2' of univariate continuous
    families, every value given (symkl.mixture reads it)."""
    return read_mixture(text, continuous_only=True, single=False).components


def direction(text: str, starts: int = 4) -> Direction:
    """Fit normal Q to the mixture by forward KL (closed form) and reverse KL (numeric, ``starts`` starts at
    least: each component's moments, the forward fit)."""
    comps = mixture(text)
    general, forward, steps = _forward(comps)
    x = sp.Symbol("x", real=True)
    log_mix = _log_mixture(comps, x)
    mu, sigma = NORMAL.symbols("_q")

    def moment(h):
        return mpmath.fsum(number(w, DPS + 10) * expectation_value(i.family, i.bound, h, x, DPS + 10)
                           for w, i in comps)
    found = numeric_argmin(moment, NORMAL.log_density(x, mu, sigma), x, [mu, sigma],
                           [number(forward[mu]) + mpmath.mpf("0.1"), number(forward[sigma]) * mpmath.mpf("1.1")])
    agree = min(digits(found[v], number(forward[v], DPS), DPS) for v in (mu, sigma)) if found else 0.0
    forward_kl = _divergence_from_mixture(comps, log_mix, x, forward)
    steps.append(Step("check", None, f"findroot on the quadrature cross-entropy's gradient agrees to {agree:.0f} "
                                     f"digits"))
    reverse, reverse_kl, note, tried = None, None, "", ()
    if all(i.family.support(*i.bound) == sp.S.Reals for _, i in comps):
        reverse, reverse_kl, tried = _reverse(comps, log_mix, x, forward, starts)
    else:
        note = "every normal Q puts mass where the mixture has none: KL(Q||P) is infinite for every Q"
    return Direction(comps, general, forward, agree, forward_kl, reverse, reverse_kl, note, tried, tuple(steps))


def _forward(comps) -> tuple[dict, dict, list]:
    """argmin H(sum w_i P_i, Q) over Q = normal(mu_q, sigma_q), with every weight and component parameter
    symbolic (w1, mu1, sigma1, ...), then at the values."""
    mu, sigma = variables = list(NORMAL.symbols("_q"))
    weights = sp.symbols(f"w1:{len(comps) + 1}", positive=True)
    total, values = sp.S.Zero, {}
    for i, (w, inst) in enumerate(comps, 1):
        fam = inst.family
        d = cache.derivation("cross_entropy", fam, NORMAL)
        if d.status != "closed":
            raise FamilyError(f"H({fam.label}, normal) has no closed form ({d.reason or d.status})")
        own = {s: sp.Symbol(f"{p.name}{i}", **s.assumptions0) for s, p in zip(fam.symbols("_p"), fam.params)}
        total += weights[i - 1] * d.expr.xreplace(own)
        values.update({weights[i - 1]: w, **{own[s]: v for s, v in zip(fam.symbols("_p"), inst.bound)}})
    grad = [tidy(g) for g in gradient(total, variables)]
    found = solve_stationary(grad, variables, {mu: "real", sigma: "positive"})
    if found is None or len(found) != 1:
        raise FamilyError("sympy found no single closed-form stationary point of H(P, Q)")
    general = {v: _under_weights(found[0][v], weights) for v in variables}
    forward = {v: tidy(e.subs(values)) for v, e in general.items()}
    steps = [Step("H(P, Q) = sum_i w_i H(P_i, Q)", total, "linearity of E_P; each H(P_i, Q) from the catalog"),
             Step("d H(P, Q)/d(mu_q, sigma_q) = 0", sp.Matrix(grad)),
             Step("argmin (moment matching)", sp.Tuple(*[sp.Eq(v, e) for v, e in general.items()]),
                  "sympy's solve, w1 + ... + wn = 1"),
             Step("at the mixture's values", sp.Tuple(*[sp.Eq(v, e) for v, e in forward.items()]))]
    return general, forward, steps


def _under_weights(expr: sp.Expr, weights) -> sp.Expr:
    """A readable form under w1 + ... + wn = 1: the numerator (of the radicand, for sigma_q) collected in the
    parameters that appear only squared, each coefficient factored, then the weights' sum set to 1."""
    root = expr.is_Pow and expr.exp == sp.S.Half
    inner = expr.base if root else expr
    num, den = sp.fraction(sp.together(inner))
    num = sp.expand(num)
    squared = [s for s in num.free_symbols - set(weights) if not num.has(s) or sp.expand(num.subs(s, -s)) == num]
    num = sp.collect(num, [s**2 for s in sorted(squared, key=str)], func=sp.factor)
    total = sp.Add(*weights)
    inner = sp.factor_terms(num.subs(total, 1) / sp.factor(den).subs(total, 1))
    shown = sp.sqrt(inner) if root else inner
    return min((shown, tidy(expr, {total: 1})), key=sp.count_ops)


def _log_mixture(comps, x) -> sp.Expr:
    return Mixture(comps, "").log_density(x)


def _divergence_from_mixture(comps, log_mix, x, q: dict) -> mpmath.mpf:
    """KL(P||Q) = sum_i w_i E_{P_i}[log p(X) - log q(X)] by mpmath quadrature (P's entropy has no closed form)."""
    log_q = NORMAL.log_density(x, *q.values())
    with mpmath.workdps(DPS):
        return mpmath.fsum(number(w, DPS) * expectation_value(i.family, i.bound, log_mix - log_q, x, DPS)
                           for w, i in comps)


def _reverse(comps, log_mix, x, forward: dict, starts: int):
    """Minimise KL(Q||P) over (mu, log sigma) by BFGS with the exact gradient, from each component's mean and
    standard deviation and from the forward fit; the best minimum's KL again by mpmath quadrature."""
    from scipy.optimize import minimize
    mu_q, sigma_q = NORMAL.symbols("_q")
    log_p = _float_log_mixture(comps, x)
    entropy = cache.derivation("entropy", NORMAL).expr  # H(Q), derived: it depends on sigma only
    neg_entropy = sp.lambdify(NORMAL.symbols()[1], -entropy, "numpy")
    means = [number(_moment(i, x, 1)) for _, i in comps]
    spreads = [mpmath.sqrt(number(_moment(i, x, 2)) - m**2) for (_, i), m in zip(comps, means)]
    begin = [(float(m) if abs(m) > 1e-30 * s else 0.0, float(s)) for m, s in zip(means, spreads)]
    begin = (begin + [(float(number(forward[mu_q])), float(number(forward[sigma_q])))])[:max(starts, len(begin) + 1)]
    points = sorted({float(m) for m in means})
    tried = []
    for mu0, sigma0 in begin:
        res = minimize(_objective, [mu0, np.log(sigma0)], args=(log_p, neg_entropy, points), jac=True,
                       method="BFGS", options={"gtol": 1e-10})
        tried.append(((mu0, sigma0), (float(res.x[0]), float(np.exp(res.x[1]))), float(res.fun)))
    lowest = min(t[2] for t in tried)   # ties (a symmetric mixture's two modes): the first start, not float noise
    _, best, _ = next(t for t in tried if t[2] <= lowest + 1e-9 * max(1.0, abs(lowest)))
    q = tuple(sp.Float(v, 17) for v in best)
    with mpmath.workdps(DPS):
        value = expectation_value(NORMAL, q, NORMAL.log_density(x, *q) - log_mix, x, DPS)
    return dict(zip((mu_q, sigma_q), best)), value, tuple(tried)


def _float_log_mixture(comps, x):
    """log p(x) in float64 as the log-sum-exp of log w_i + log p_i(x): the log of the summed densities underflows
    to -inf some 40 standard deviations out (a start at the forward fit of 0.999 N(0, 1) + 0.001 N(1000, 0.01)
    read KL(Q||P) = inf there), where the reverse KL still weighs it."""
    from scipy.special import logsumexp
    parts = [sp.lambdify(x, sp.log(w) + i.family.log_density(x, *i.bound), "scipy") for w, i in comps]
    return lambda v: logsumexp(np.broadcast_arrays(*[f(v) for f in parts]), axis=0)


def _moment(inst: Instance, x, k: int):
    """E[X^k] under a component, by quadrature (20 digits): a start for the reverse fit."""
    return expectation_value(inst.family, inst.bound, x**k, x, 20)


def _objective(params, log_p, neg_entropy, points):
    """KL(Q||P) and its gradient in (mu, log sigma), Q = normal(mu, sigma): -H(Q) - E_Q[log p(X)], with
    E_Q[g(X)] = E[g(mu + sigma T)], T standard normal, by quad over |t| <= 12 split at P's component means."""
    from scipy.integrate import IntegrationWarning, quad
    mu, log_sigma = params
    sigma = np.exp(log_sigma)
    cuts = sorted({-12.0, 12.0, *[(m - mu) / sigma for m in points if abs(m - mu) < 12 * sigma]})

    def expect(g):
        with warnings.catch_warnings():  # quad's roundoff notice at these tolerances: the error is ~1e-13
            warnings.simplefilter("ignore", IntegrationWarning)
            return sum(quad(lambda t: np.exp(-t * t / 2) / np.sqrt(2 * np.pi) * g(t) * log_p(mu + sigma * t), a,
                            b, epsabs=1e-13, epsrel=1e-12, limit=200)[0] for a, b in itertools.pairwise(cuts))
    value = float(neg_entropy(sigma)) - expect(lambda t: 1.0)
    # d(-H)/d(log sigma) = -1 for a normal (its entropy is log sigma + const, derived above)
    grad = [-expect(lambda t: t) / sigma, -1.0 - expect(lambda t: t * t - 1.0)]
    return value, np.array(grad)


PLOT_EXTRA = 'matplotlib is not installed; install the plot extra: pip install "symkl[plot]"'


def pyplot():
    """matplotlib's pyplot on the file-only Agg backend; ImportError naming the extra when it is missing."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(PLOT_EXTRA) from None
    return plt


def plot(d: Direction, path: str) -> None:
    """Draw the mixture's density with the forward (mode-covering) and reverse (mode-seeking) fits, as a PNG."""
    plt = pyplot()
    x = sp.Symbol("x", real=True)
    fits = [("forward KL(P||Q)", d.forward, d.forward_kl, "--")]
    if d.reverse is not None:
        fits.append(("reverse KL(Q||P)", d.reverse, d.reverse_kl, "-."))
    lows, highs = [], []
    for _, q, _, _ in fits:
        mu, sigma = (float(sp.N(v)) for v in q.values())
        lows.append(mu - 4 * sigma)
        highs.append(mu + 4 * sigma)
    grid = np.linspace(min(lows), max(highs), 800)
    density = sp.lambdify(x, sp.exp(_log_mixture(d.components, x)), "scipy")
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.fill_between(grid, density(grid), alpha=0.3, label="P = " + " + ".join(
        f"{w}*{i.label}" for w, i in d.components))
    for name, q, value, style in fits:
        shown = ", ".join(f"{float(sp.N(v)):.4g}" for v in q.values())
        curve = sp.lambdify(x, NORMAL.density(x, *(sp.Float(float(sp.N(v))) for v in q.values())), "numpy")
        ax.plot(grid, curve(grid) * np.ones_like(grid), style, lw=2,
                label=f"{name}: normal({shown}), KL = {mpmath.nstr(value, 5)}")
    ax.set_xlabel("x")
    ax.set_ylabel("density")
    ax.set_title("one normal fitted to the mixture: mode-covering vs mode-seeking")
    ax.legend(fontsize=8)
    fig.tight_layout()
    try:
        fig.savefig(path, dpi=120)
    finally:
        plt.close(fig)
