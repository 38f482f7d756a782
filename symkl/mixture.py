"""Finite mixtures of catalog distributions, as P or Q: '0.3*normal(0, 1) + 0.7*normal(2, 1/2)'.

Why: KL between mixtures (Gaussian mixture models, mixture priors) has no closed form, and sampled estimates
change from call to call and can come out negative. Here the value is the definition computed deterministically
(sum_i w_i E_{P_i}[log p(X) - log q(X)], each expectation by the checks' quadrature or summation, by two methods
that must agree), and bounds in closed form come from the components' own derived results:

- upper: log q >= log(v_j q_j) and log q >= sum_j v_j log q_j (Jensen) bound H(P, Q) above by the components'
  cross-entropies; H(P) >= sum_i w_i H(P_i) (concavity); with as many components on each side, also
  KL(w||v) + sum_i w_i KL(P_i||Q_pi(i)) for the best pairing pi (the chain rule: the joint KL bounds the
  marginal one);
- lower: H(P, Q) >= -log E_P[q(X)] (Jensen), E_{P_i}[q_j(X)] derived by the expectation engine where it can,
  and H(P) <= sum_i w_i H(P_i) + H(w); never below 0.

    >>> r = divergence("kl", "0.5*normal(-1, 1) + 0.5*normal(1, 1)", "normal(0, 2)")
    >>> r.lower <= r.value <= r.upper
    True
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import mpmath
import sympy as sp

from .budget import attempt
from .family import FamilyError
from .parse import ParseError, parse_mixture
from .quadrature import expectation_value
from .spec import Instance, instance

DPS = 30
METHODS = ("tanh-sinh", "gauss-legendre")


@dataclass(frozen=True)
class Mixture:
    """Positive weights summing to exactly 1, each with a univariate catalog distribution whose every parameter
    has a value (one component: the distribution itself)."""

    components: tuple[tuple[sp.Expr, Instance], ...]
    label: str

    @property
    def discrete(self) -> bool:
        return self.components[0][1].family.discrete

    def log_density(self, x: sp.Symbol) -> sp.Expr:
        if len(self.components) == 1:
            inst = self.components[0][1]
            return inst.family.log_density_at(x, *inst.bound)
        return sp.log(sp.Add(*[w * sp.exp(i.family.log_density_at(x, *i.bound)) for w, i in self.components]))

    def support(self) -> sp.Set:
        return sp.Union(*[i.family.support(*i.bound) for _, i in self.components])


def is_mixture(text) -> bool:
    """Whether a spec is written as a weighted sum of distributions."""
    if not isinstance(text, str) or "*" not in text or "+" not in text:
        return False
    try:
        parse_mixture(text)
    except ParseError:
        return False
    return True


def mixture(text: str, continuous_only: bool = False, single: bool = True) -> Mixture:
    """Read 'w1*spec1 + w2*spec2 + ...' (or, with ``single``, one spec with every value given) as a Mixture;
    FamilyError with the reason when the weights are not positive numbers summing to 1, or a component lacks a
    value."""
    if single and not is_mixture(text):
        components = ((sp.S.One, instance(text)),)
    else:
        try:
            components = tuple((w, instance(spec.text)) for w, spec in parse_mixture(text))
        except ParseError as err:
            raise FamilyError(f"cannot read the mixture {text!r}: {err}") from None
    kinds = set()
    for weight, inst in components:
        fam = inst.family
        if fam.dim is not None or (continuous_only and fam.discrete):
            raise FamilyError(f"{fam.label}: a mixture here holds univariate "
                              f"{'continuous ' if continuous_only else ''}families")
        if any(v is None or isinstance(v, str) for v in inst.bound):
            raise FamilyError(f"{inst.label}: give every parameter of a mixture component a value")
        if not (weight.is_real and weight > 0):
            raise FamilyError(f"the weight {weight} of {inst.label} must be a positive number")
        kinds.add(fam.discrete)
    if len(kinds) > 1:
        raise FamilyError("a mixture's components must be all discrete or all continuous")
    total = sp.nsimplify(sp.Add(*[w for w, _ in components]))
    if sp.simplify(total - 1) != 0:
        raise FamilyError(f"the mixture weights sum to {sp.N(total, 15)}, not 1")
    return Mixture(components, " + ".join(f"{w}*{i.label}" if len(components) > 1 else i.label
                                          for w, i in components))


@dataclass
class MixtureResult:
    """A quantity with a mixture on a side: its value by quadrature (nats, or the base asked for), the digits on
    which two methods agree, and closed-form bounds (None where a component lacks a closed form)."""

    quantity: str
    p: str
    q: str | None
    value: mpmath.mpf
    agreement: float
    lower: mpmath.mpf | None
    upper: mpmath.mpf | None
    base: str = "e"
    notes: list = field(default_factory=list)
    summed: bool = False

    def to_json(self) -> dict:
        show = (lambda v: None if v is None else ("oo" if mpmath.isinf(v) else mpmath.nstr(v, 20)))
        return {"quantity": self.quantity, "p": self.p, "q": self.q, "status": "no-closed-form",
                "value": show(self.value), "digits": round(self.agreement, 1), "lower": show(self.lower),
                "upper": show(self.upper), "unit": UNITS[self.base], "notes": self.notes}

    def __str__(self) -> str:
        name = {"kl": "KL", "cross_entropy": "H", "entropy": "H"}[self.quantity]
        args = self.p if self.q is None else f"{self.p}{'||' if self.quantity == 'kl' else ', '}{self.q}"
        lines = [f"{name}({args})  [{UNITS[self.base]}]", "no closed form (a mixture); by deterministic "
                 "quadrature:"]
        if mpmath.isinf(self.value):
            return "\n".join(lines[:1] + ["∞", *self.notes])
        how = "summed with a tail bound" if self.summed else \
            f"{self.agreement:.0f} digits agree between tanh-sinh and Gauss-Legendre"
        lines.append(f"= {mpmath.nstr(self.value, 20)}  ({how})")
        low = "-" if self.lower is None else mpmath.nstr(self.lower, 12)
        high = "-" if self.upper is None else mpmath.nstr(self.upper, 12)
        lines.append(f"closed-form bounds from the components: {low} <= value <= {high}")
        return "\n".join(lines + self.notes)


UNITS = {"e": "nats", "2": "bits", "10": "dits"}


def divergence(quantity: str, p, q=None, base: str = "e", dps: int = DPS) -> MixtureResult:
    """KL(P||Q), H(P, Q) or H(P) where P or Q (or both) may be mixtures given as text."""
    mp, mq = mixture(p) if isinstance(p, str) else p, None
    if quantity != "entropy":
        mq = mixture(q) if isinstance(q, str) else q
        if mp.discrete != mq.discrete:
            raise FamilyError("P and Q must be both discrete or both continuous")
    value, agreement, notes = _value(quantity, mp, mq, dps)
    lower, upper = (None, None) if mpmath.isinf(value) else _bounds(quantity, mp, mq, dps, notes)
    with mpmath.workdps(dps + 10):
        scale = mpmath.mpf(1) if base == "e" else 1 / mpmath.log(int(base))
        scaled = [None if v is None else +(v * scale) for v in (value, lower, upper)]
    return MixtureResult(quantity, mp.label, mq.label if mq else None, scaled[0], agreement, scaled[1],
                         scaled[2], base, notes, mp.discrete)


def _value(quantity, mp: Mixture, mq: Mixture | None, dps):
    """sum_i w_i E_{P_i}[integrand] by each method (oo where P has mass outside Q's support)."""
    x = sp.Symbol("x", integer=True) if mp.discrete else sp.Symbol("x", real=True)
    if mq is not None and any(_outside(i.family.support(*i.bound), mq.support()) for _, i in mp.components):
        return mpmath.inf, float(dps), ["infinite: P has mass where Q has none"]
    log_p = mp.log_density(x)
    integrand = {"kl": log_p - (mq.log_density(x) if mq else 0), "entropy": -log_p,
                 "cross_entropy": -(mq.log_density(x) if mq else 0)}[quantity]
    values = []
    for method in METHODS[:1] if mp.discrete else METHODS:
        parts = [expectation_value(i.family, i.bound, integrand, x, dps + 10, method) for _, i in mp.components]
        if any(v is None for v in parts):
            raise FamilyError("the quadrature did not converge; no value can be given")
        with mpmath.workdps(dps + 10):
            values.append(mpmath.fsum(_mp(w) * v for (w, _), v in zip(mp.components, parts)))
    with mpmath.workdps(dps + 10):
        gap = abs(values[0] - values[-1]) / max(abs(values[0]), mpmath.mpf(10) ** -dps)
        agreement = float(dps) if gap == 0 else float(min(dps, -mpmath.log10(gap)))
    return values[0], agreement, []


def _outside(support: sp.Set, cover: sp.Set) -> bool:
    return support.is_subset(cover) is False


def _bounds(quantity, mp: Mixture, mq: Mixture | None, dps, notes):
    """(lower, upper) in closed form from the components' derived entropies, cross-entropies and KLs."""
    from .query import cross_entropy, entropy, kl
    w = [_mp(weight) for weight, _ in mp.components]
    with mpmath.workdps(dps + 10):
        h_w = -mpmath.fsum(a * mpmath.log(a) for a in w)
        try:
            own = [_value_of(entropy(i)) for _, i in mp.components]
        except _NoValue as err:
            notes.append(f"no bounds: {err}")
            return None, None
        own_low, own_high = mpmath.fsum(a * h for a, h in zip(w, own)), mpmath.fsum(a * h for a, h in zip(w, own)) + h_w
        if quantity == "entropy":
            return own_low, own_high
        v = [_mp(weight) for weight, _ in mq.components]
        try:
            cross = [[_value_of(cross_entropy(i, j)) for _, j in mq.components] for _, i in mp.components]
        except _NoValue as err:
            notes.append(f"no bounds: {err}")
            return None, None
        per_component = [min(min(c - mpmath.log(b) for c, b in zip(row, v)), mpmath.fsum(b * c for b, c in zip(v, row)))
                         for row in cross]
        cross_high = mpmath.fsum(a * c for a, c in zip(w, per_component))
        overlap = _overlap(mp, mq, w, v, dps)
        cross_low = None if overlap is None else -mpmath.log(overlap)
        if quantity == "cross_entropy":
            if len(mq.components) == 1:
                notes.append("with one Q, H(P, Q) = sum_i w_i H(P_i, Q) exactly: the upper bound is the value")
            return cross_low, cross_high
        upper = cross_high - own_low
        if len(mp.components) == len(mq.components):
            upper = min(upper, _paired(mp, mq, w, v, kl))
        lower = mpmath.mpf(0) if cross_low is None else max(mpmath.mpf(0), cross_low - own_high)
        if cross_low is None:
            notes.append("lower bound 0: E_P[q(X)] has no closed form here")
        return lower, upper


def _paired(mp, mq, w, v, kl):
    """min over pairings pi of KL(w||v_pi) + sum_i w_i KL(P_i||Q_pi(i)) (oo where a pair's KL is)."""
    table = [[_value_of(kl(i, j)) for _, j in mq.components] for _, i in mp.components]
    best = mpmath.inf
    for pi in itertools.permutations(range(len(v))):
        best = min(best, mpmath.fsum(a * (mpmath.log(a / v[j]) + table[i][j]) for i, (a, j) in enumerate(zip(w, pi))))
    return best


def _overlap(mp, mq, w, v, dps):
    """E_P[q(X)] = sum_ij w_i v_j E_{P_i}[q_j(X)], each term derived by the expectation engine (None if one
    has no closed form within its budget)."""
    x = sp.Symbol("x", integer=True) if mp.discrete else sp.Symbol("x", real=True)
    total = mpmath.mpf(0)
    for a, (_, pi) in zip(w, mp.components):
        for b, (_, qj) in zip(v, mq.components):
            found = attempt(10, "E_P[q(X)]", lambda: _product_integral(pi, qj, x))
            if found is None or not found.is_number or found.has(sp.nan, sp.zoo, sp.Integral, sp.Sum):
                return None
            total += a * b * _mp(found)
    return total


def _product_integral(pi: Instance, qj: Instance, x):
    """The integral (or sum) of p_i(x) q_j(x) over both supports: by the expectation engine where Q_j's support
    holds P_i's, else (or if it finds none) by sympy over the supports' intersection (q_j is 0 outside its own,
    whatever its formula says there)."""
    from .expectation import NoClosedForm, expect
    from .support import bounds
    density = sp.exp(qj.family.log_density(x, *qj.bound))
    own, other = pi.family.support(*pi.bound), qj.family.support(*qj.bound)
    if own.is_subset(other):
        params = pi.family.symbols()
        try:
            return expect(pi.family, params, density, x)[0].subs(dict(zip(params, pi.bound)))
        except NoClosedForm:
            pass
    common = sp.Intersection(own, other)
    if common is sp.S.EmptySet:
        return sp.S.Zero
    lo, hi = bounds(common)
    product = sp.exp(sp.expand_log(pi.family.log_density(x, *pi.bound) + sp.log(density), force=True))
    return (sp.summation if pi.family.discrete else sp.integrate)(sp.simplify(product), (x, lo, hi))


class _NoValue(ValueError):
    """A component quantity without a closed form: no bound from it."""


def _value_of(result) -> mpmath.mpf:
    if result.expr is None:
        raise _NoValue(f"{result.title} has no closed form")
    return result.value(DPS + 10)


def _mp(value) -> mpmath.mpf:
    return mpmath.mpf(sp.Float(sp.N(value, DPS + 20), DPS + 20)._mpf_)
