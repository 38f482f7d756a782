"""Distillation and classification: KL(softmax(z_t/T) || softmax(z_s/T)) between a teacher's and a student's
class probabilities at temperature T.

The closed form is derived from the catalog's categorical KL by substituting the softmax (no formula typed in).
The float64 function never forms a probability ratio: with p = softmax(z_t/T), u = (z_s - z_t)/T and
v = u - E_p[u] (so E_p[v] = 0),

.. math:: KL = \\log E_p[e^{v}] = \\operatorname{log1p}\\big(\\textstyle\\sum_i p_i (e^{v_i} - 1 - v_i)\\big),

a sum of non-negative terms, so relative accuracy holds when teacher and student agree (KL ~ |v|^2) as well as
for logits 1e4 apart, where softmax-then-log gives nan (exp overflows: inf/inf) or inf (log 0).
"""
from __future__ import annotations

from dataclasses import dataclass

import mpmath
import numpy as np
import sympy as sp

from ..expectation import Step
from ..numeric import expm1x_numpy

BIG = 2.0
"""|v| above which a term p (e^v - 1 - v) is formed from exp(log p + v) (no cancellation left to avoid)."""
MAX_CLASSES_SYMBOLIC = 12


@dataclass(frozen=True)
class Distillation:
    """The derived KL between softmax(z_t/T) and softmax(z_s/T) for K classes, and its derivation steps."""

    classes: int
    expr: sp.Expr
    teacher: tuple[sp.Symbol, ...]
    student: tuple[sp.Symbol, ...]
    temperature: sp.Symbol
    probabilities: tuple[sp.Symbol, ...]
    steps: tuple[Step, ...]
    proof: str

    def at(self, teacher, student, temperature) -> sp.Expr:
        """The closed form at exact logits and temperature (p_i as the teacher's softmax)."""
        values = {**dict(zip(self.teacher, teacher)), **dict(zip(self.student, student)),
                  self.temperature: temperature}
        return self.expr.subs(self.softmax()).subs(values)

    def softmax(self) -> dict:
        total = sp.Add(*[sp.exp(z / self.temperature) for z in self.teacher])
        return {p: sp.exp(z / self.temperature) / total for p, z in zip(self.probabilities, self.teacher)}


def derive(classes: int) -> Distillation:
    """KL(softmax(z_t/T) || softmax(z_s/T)) for ``classes`` classes, from the categorical KL of the catalog.

    .. math:: KL = \\sum_i p_i \\frac{z_{t,i} - z_{s,i}}{T} - \\log\\sum_i e^{z_{t,i}/T} + \\log\\sum_i e^{z_{s,i}/T}
    """
    from ..query import kl
    if not 2 <= classes <= MAX_CLASSES_SYMBOLIC:
        raise ValueError(f"the symbolic form is shown for 2 to {MAX_CLASSES_SYMBOLIC} classes, got {classes}")
    cat = kl(f"categorical[{classes}]", f"categorical[{classes}]")
    ps, qs = cat.symbols[:classes], cat.symbols[classes:]
    t = sp.Symbol("T", positive=True)
    zt = sp.symbols(f"z_t1:{classes + 1}", real=True)
    zs = sp.symbols(f"z_s1:{classes + 1}", real=True)
    lse_t, lse_s = (sp.log(sp.Add(*[sp.exp(z / t) for z in zz])) for zz in (zt, zs))
    soft = {**{p: sp.exp(z / t) / lse_t.args[0] for p, z in zip(ps, zt)},
            **{q: sp.exp(z / t) / lse_s.args[0] for q, z in zip(qs, zs)}}
    inside = sp.expand(cat.expr.replace(lambda a: isinstance(a, sp.log),
                                        lambda a: sp.expand_log(sp.log(a.args[0].subs(soft)), force=True)))
    identity = cat.identities()
    c_t, c_s = (sp.factor_terms(inside.coeff(lse)).subs(identity) for lse in (lse_t, lse_s))
    rest = sp.collect(sp.expand(inside - inside.coeff(lse_t) * lse_t - inside.coeff(lse_s) * lse_s), ps)
    final = rest + c_t * lse_t + c_s * lse_s
    proof = "proven" if sp.simplify((final - cat.expr).subs(soft)) == 0 else "NOT proven"
    named = {p: sp.Symbol(f"p{i}", positive=True) for i, p in enumerate(ps, 1)}   # p_i = softmax(z_t/T)_i
    inside, final, ps = inside.xreplace(named), final.xreplace(named), tuple(named.values())
    steps = (Step("KL of the categorical family (catalog)", cat.expr, "derived by symkl kl categorical categorical;"
                  " p_i = p_i_p, q_i = p_i_q"),
             Step("q_i = exp(z_s,i/T)/sum_j exp(z_s,j/T), log p_i = z_t,i/T - log sum_j exp(z_t,j/T)", inside,
                  "softmax substituted inside the logs, logs expanded"),
             Step("sum_i p_i = 1", final, "the coefficients of the two log-sum-exp terms"),
             Step("check", None, f"{proof}: the result minus the categorical KL, with p = softmax(z_t/T) "
                                 f"everywhere, simplifies to 0"))
    return Distillation(classes, final, zt, zs, t, ps, steps, proof)


def kl_softmax(teacher, student, temperature=1.0):
    """KL(softmax(teacher/T) || softmax(student/T)) in nats, vectorized over leading axes (classes last).

    Measured within 1e-12 relative of the 50-digit definition for logits up to 1e4 apart and for students within
    1e-12 of the teacher (KL down to ~1e-300), where softmax-then-log gives nan or no correct digit. A logit of
    -inf masks its class (probability 0, as torch's masked logits): KL is oo where the student masks a class the
    teacher does not. Invalid input (a temperature <= 0, a nan or +inf logit, a row masked entirely) gives nan.

        >>> float(kl_softmax([1000.0, 0.0], [0.0, 1000.0]))
        1000.0
    """
    zt, zs = np.broadcast_arrays(np.asarray(teacher, dtype=float), np.asarray(student, dtype=float))
    t = np.asarray(temperature, dtype=float)[..., None]
    with np.errstate(invalid="ignore"):
        bad = ~((t > 0) & np.isfinite(t))
    t = np.where(bad, 1.0, t)
    zt, zs, lost, masked_out = _unmask(zt, zs, t)
    top = np.argmax(zt, axis=-1)[..., None]
    at_top = lambda z: np.take_along_axis(z, top, -1)
    is_top = np.arange(zt.shape[-1]) == top
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        a = (zt - at_top(zt)) / t
        log_total = np.log1p(np.sum(np.where(is_top, 0.0, np.exp(a)), axis=-1, keepdims=True))
        log_p = a - log_total
        p = np.exp(log_p)
        hi, lo = _two_difference(zs, zt)            # zs - zt exactly, as hi + lo
        w = ((hi - at_top(hi)) + (lo - at_top(lo))) / t
        shift = np.sum(p * w, axis=-1, keepdims=True)
        v = w - shift
        again = np.sum(p * v, axis=-1, keepdims=True)
        v, shift = v - again, shift + again
        exponent = (zs - at_top(zs)) / t - log_total - shift      # log p_i + v_i, formed from the student's logits
        out = _log_mean_exp_centered(exponent, p, v)
    valid = ~bad[..., 0] & ~masked_out & np.all(np.isfinite(zt) & np.isfinite(zs), axis=-1)
    out = np.where(valid, np.where(lost, np.inf, out), np.nan)
    return out[()] if out.ndim == 0 else out


def _unmask(zt, zs, t):
    """Logits of -inf (masked classes) replaced by finite ones 800 T below the row's top, whose exp underflows
    to exactly 0 next to the top, so p_i = 0 and no difference of infinities arises. The rest of the algorithm
    is exact for p_i = 0: the sum of p_i e^v_i is formed from the student's logits, so a class the teacher
    masks still counts in the student's normalizer. Also returns where the student masks a class the teacher
    does not (KL = oo) and rows masked entirely (invalid)."""
    low_t, low_s = zt == -np.inf, zs == -np.inf
    lost = np.any(low_s & ~low_t, axis=-1)
    masked_out = np.all(low_t, axis=-1) | np.all(low_s, axis=-1)
    with np.errstate(invalid="ignore"):
        top_t = np.max(np.where(low_t, -np.inf, zt), axis=-1, keepdims=True)
        top_s = np.max(np.where(low_s, -np.inf, zs), axis=-1, keepdims=True)
        zt = np.where(low_t, top_t - 800.0 * t, zt)
        zs = np.where(low_s, top_s - 800.0 * t, zs)
    return zt, zs, lost, masked_out


def _two_difference(a, b):
    """a - b as hi + lo exactly (Knuth's two-sum): the difference of two nearby large logits keeps its digits."""
    hi = a - b
    virtual = hi - a
    lo = (a - (hi - virtual)) + (-b - virtual)
    return hi, np.where(np.isfinite(lo), lo, 0.0)


def _log_mean_exp_centered(exponent, p, v):
    """log E_p[e^v] for E_p[v] = 0, with exponent = log p + v: log1p of the sum of the non-negative terms
    p (e^v - 1 - v), a term with v > BIG formed as exp(log p + v) - p (1 + v) (p may underflow where e^v
    overflows). Where that sum overflows, log E_p[e^v] is the log-sum-exp of log p + v, with no cancellation."""
    big = v > BIG
    terms = np.where(big, np.exp(exponent) - p * (1.0 + v), p * expm1x_numpy(np.where(big, 0.0, v)))
    s = np.sum(terms, axis=-1)
    top = np.max(exponent, axis=-1, keepdims=True)
    lse = top[..., 0] + np.log(np.sum(np.exp(exponent - top), axis=-1))
    return np.where(np.isfinite(s), np.log1p(s), lse)


def kl_softmax_naive(teacher, student, temperature=1.0):
    """The textbook recipe, softmax then sum p log(p/q): nan or inf once exp overflows or q underflows
    (kept to show why ``kl_softmax`` exists)."""
    with np.errstate(all="ignore"):
        p = np.exp(np.asarray(teacher, float) / temperature)
        q = np.exp(np.asarray(student, float) / temperature)
        p, q = p / p.sum(-1, keepdims=True), q / q.sum(-1, keepdims=True)
        return np.sum(p * np.log(p / q), axis=-1)


def kl_softmax_mpmath(teacher, student, temperature, dps: int = 50):
    """The definition sum p_i log(p_i/q_i) to ``dps`` digits from the exact values of the inputs (floats are
    taken as the binary numbers they are): the reference the float64 function is measured against. The working
    precision doubles until two precisions agree, since log q_i - log p_i may cancel far below 1."""
    work, previous = dps + 20, None
    while True:
        with mpmath.workdps(work):
            t = mpmath.mpf(temperature)
            a = [mpmath.mpf(z) / t for z in teacher]
            b = [mpmath.mpf(z) / t for z in student]
            la, lb = _log_softmax(a), _log_softmax(b)
            value = mpmath.fsum(mpmath.exp(x) * (x - y) for x, y in zip(la, lb))
            if previous is not None and abs(value - previous) <= abs(value) * mpmath.mpf(10) ** -(dps + 5):
                return +value
        if work > 40000:
            raise ArithmeticError("the reference KL did not settle below 40000 digits")
        previous, work = value, 2 * work


def _log_softmax(values):
    """(v - top) - log1p(sum of the others' exp(v - top)): differences first, so that neither a large logit
    nor 1 + (a tiny sum) absorbs what the log-probabilities differ by."""
    top = max(values)
    others = list(values)
    others.remove(top)
    log_total = mpmath.log1p(mpmath.fsum(mpmath.exp(v - top) for v in others))
    return [(v - top) - log_total for v in values]


REGIMES = ("far apart (logits up to 1e4 apart)", "student within 1e-12..1e-1 of the teacher",
           "student = teacher * (1 + d)", "student = teacher + 1000 + small", "unrelated logits")


def accuracy(n: int = 40, seed: int = 0) -> dict[str, tuple[float, int, float]]:
    """Per regime: the worst relative error of ``kl_softmax`` against the 50-digit definition over ``n`` random
    cases (K from 2 to 50, T from 0.1 to 10, logit scales 1e-3 to 1e4; absolute error where the true KL is
    below 1e-300), how many of the cases the naive softmax-then-log form returns nan or inf for, and its worst
    relative error where it returns a number."""
    rng = np.random.default_rng(seed)
    worst = {r: (0.0, 0, 0.0) for r in REGIMES}
    for _ in range(n):
        k, t = int(rng.choice([2, 3, 5, 10, 50])), float(rng.choice([0.1, 0.5, 1.0, 2.0, 10.0]))
        scale, d = 10 ** rng.uniform(-3, 4), 10 ** rng.uniform(-12, -1)
        zt = rng.normal(size=k) * scale
        cases = (rng.uniform(-1e4, 1e4, size=k), zt + d * rng.normal(size=k) * max(1.0, scale), zt * (1 + d),
                 zt + 1000.0 + d * rng.normal(size=k), rng.normal(size=k) * scale)
        for regime, zs in zip(REGIMES, cases):
            truth = kl_softmax_mpmath(zt, zs, t)
            ours = float(kl_softmax(zt, zs, t))
            naive = float(kl_softmax_naive(zt, zs, t))
            errors = [float(abs(mpmath.mpf(v) - truth) if abs(truth) < 1e-300 else abs(mpmath.mpf(v) - truth) / truth)
                      if np.isfinite(v) else 0.0 for v in (float(ours), naive)]
            before = worst[regime]
            worst[regime] = (max(before[0], errors[0]), before[1] + (not np.isfinite(naive)), max(before[2], errors[1]))
    return worst
