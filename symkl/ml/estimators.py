"""Sample estimators of KL(P||Q) as used in RL fine-tuning: with x ~ P and r = q(x)/p(x) (definitions, typed),

    k1 = -log r,    k2 = (log r)^2 / 2,    k3 = (r - 1) - log r,

their means, biases and variances under P, and the expected gradient of each with respect to P's parameters at
fixed samples, E_P[grad k(x)], against the true gradient of KL(P||Q) (categorical P through its logits,
p = softmax(theta), as a language model's policy). Derived with the catalog's expectation engine: a polynomial in
r with coefficients h(x) is taken term by term, E_P[h] by P's declaration, E_P[r h] = E_Q[h] (change of measure;
P and Q share their support), E_P[r^2] = exp(log of the integral of q^2/p) from the Rényi log-partition route at
alpha = -1, finite only where that integral converges (normal: sigma_q^2 < 2 sigma_p^2). A finite support is
summed directly.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import sympy as sp

from ..divergence import variable_for
from ..expectation import NoClosedForm, expect
from ..family import Family, FamilyError
from ..result import substitute
from ..simplify import readable
from ..spec import Instance, instance
from .renyi import ALPHA, same
from .renyi import derive as renyi_derive
from .store import remembered, storable

R, L = sp.Symbol("r", positive=True), sp.Symbol("L", real=True)   # r = q(x)/p(x) and L = log r
DEFINITIONS = {"k1": -L, "k2": L**2 / 2, "k3": R - 1 - L}
"""The estimators as functions of r and L = log r (definitions)."""


@storable
@dataclass(frozen=True)
class Estimator:
    """One estimator: E_P[k], its bias, Var_P[k], E_P[grad k] and its difference from grad KL(P||Q)."""

    name: str
    definition: sp.Expr
    mean: sp.Expr
    bias: sp.Expr
    unbiased: str
    variance: sp.Expr
    gradient: tuple[sp.Expr, ...]
    gradient_bias: tuple[sp.Expr, ...]
    gradient_matches: str
    reverse_matches: str = "no"


@storable
@dataclass(frozen=True)
class Estimators:
    """k1, k2, k3 for P and Q: KL, the parameters the gradients are taken in, and one row per estimator."""

    p: str
    q: str
    kl: sp.Expr
    parameters: tuple[sp.Symbol, ...]
    kl_gradient: tuple[sp.Expr, ...]
    rows: tuple[Estimator, ...]
    notes: tuple[str, ...]

    def to_json(self) -> dict:
        return {"p": self.p, "q": self.q, "kl": str(self.kl), "parameters": [s.name for s in self.parameters],
                "kl_gradient": [str(g) for g in self.kl_gradient], "notes": list(self.notes),
                "estimators": [{"name": e.name, "definition": str(e.definition), "mean": str(e.mean),
                                "bias": str(e.bias), "unbiased": e.unbiased, "variance": str(e.variance),
                                "gradient": [str(g) for g in e.gradient],
                                "gradient_bias": [str(g) for g in e.gradient_bias],
                                "gradient_matches": e.gradient_matches,
                                "gradient_matches_reverse_kl": e.reverse_matches} for e in self.rows]}


def estimators(p, q) -> Estimators:
    """k1, k2, k3 for P and Q of one family (normal, categorical, and others where the engine reaches), symbolic in
    the parameters a spec leaves free.

        >>> [e.unbiased.split()[0] for e in estimators("normal", "normal").rows]
        ['yes', 'no', 'yes']
    """
    ip, iq = instance(p), instance(q)
    if ip.family is not iq.family:
        raise FamilyError(f"the estimators are derived for P and Q of one family (they share a support, so that "
                          f"E_P[r] = 1); got {ip.family.label} and {iq.family.label}")
    _refuse_zero_mass(ip, "P")
    _refuse_zero_mass(iq, "Q")
    d = derive(ip.family)
    subs = {**ip.substitutions("_p"), **iq.substitutions("_q")}
    at = lambda e: readable(substitute(e, subs)) if subs else e
    rows = tuple(Estimator(e.name, e.definition, at(e.mean), at(e.bias), e.unbiased, at(e.variance),
                           tuple(map(at, e.gradient)), tuple(map(at, e.gradient_bias)), e.gradient_matches,
                           e.reverse_matches) for e in d.rows)
    return Estimators(ip.label, iq.label, at(d.kl), d.parameters, tuple(map(at, d.kl_gradient)), rows, d.notes)


def _refuse_zero_mass(inst: Instance, role: str) -> None:
    """A probability of exactly 0 (or 1) breaks r = q/p where it matters: E_P[r] < 1, or KL = oo."""
    if inst.family.discrete and any(v in (0, 1) for v in inst.bound if v is not None and not isinstance(v, str)):
        raise FamilyError(f"{role} = {inst.label}: the estimators need every outcome to have probability strictly "
                          f"between 0 and 1 under P and Q (else r = q/p is 0 or undefined somewhere)")


@cache
def derive(fam: Family) -> Estimators:
    """The three estimators for P, Q of ``fam`` with every parameter symbolic (stored on disk: ~10 s for normal)."""
    return remembered("estimators", fam.fingerprint(), lambda: _derive(fam))


def _derive(fam: Family) -> Estimators:
    from .. import cache
    P, Q = fam.symbols("_p"), fam.symbols("_q")
    x = variable_for(fam, fam)
    log_r = sp.expand(sp.expand_log(fam.log_density(x, *Q) - fam.log_density(x, *P), force=True))
    kl = cache.derivation("kl", fam, fam).expr
    if kl is None or kl.has(sp.Piecewise):
        raise FamilyError(f"{fam.label}: KL(P||Q) has no unconditional closed form to compare the estimators with")
    logits, to_p, score_of = _parameters(fam, P, x)
    parameters = logits or P
    kl_gradient = tuple(_tidy(to_p(sp.diff(kl.subs(score_of), t)), fam) for t in parameters)
    swap = {**dict(zip(P, Q)), **dict(zip(Q, P))}
    reverse = kl.xreplace(swap)                                       # KL(Q||P), the catalog's, renamed
    reverse_gradient = tuple(to_p(sp.diff(reverse.subs(score_of), t)) for t in parameters)
    try:
        second = _second_moment(fam)
    except FamilyError as err:   # renyi's own message names D_alpha: say what the estimators need it for
        raise FamilyError(f"{fam.label}: the estimators' variances need E_P[r^2] = E_P[(q/p)^2], which symkl takes "
                          f"from an exponential-family form or a finite support ({err})") from None
    rows = []
    for name, k in DEFINITIONS.items():
        mean = _tidy(_expect_r(fam, k.subs(L, log_r), x, second), fam)
        variance = _expect_r(fam, sp.expand(k**2).subs(L, log_r), x, second) - mean**2
        bias = _tidy(mean - kl, fam)
        unbiased = same(mean, kl, fam, parameters)
        score = [to_p(sp.diff(fam.log_density(x, *P).subs(score_of), t)) for t in parameters]
        inner = -(R * sp.diff(k, R) + sp.diff(k, L)).subs(L, log_r)        # -r dk/dr, x fixed: grad r = -r score
        gradient = tuple(_tidy(_expect_r(fam, sp.expand(inner * s), x, second), fam) for s in score)
        gaps = tuple(_tidy(g - t, fam) for g, t in zip(gradient, kl_gradient))
        matches = [same(g, t, fam, parameters) for g, t in zip(gradient, kl_gradient)]
        reverse_matches = [same(g, t, fam, parameters) for g, t in zip(gradient, reverse_gradient)]
        rows.append(Estimator(name, k.subs(L, sp.log(R)), mean, bias,
                              f"yes ({unbiased})" if unbiased else "no (biased)", _tidy_variance(variance, fam),
                              gradient, gaps, _verdict(matches), _verdict(reverse_matches)))
    notes = ("x ~ P, r = q(x)/p(x); E_P[grad k] differentiates k(x) in P's parameters with x held fixed",)
    if logits:
        notes += ("P = softmax(theta): gradients in the logits theta, evaluated where theta_i = log p_i",)
    return Estimators(fam.label, fam.label, kl, tuple(parameters), kl_gradient, tuple(rows), notes)


def _verdict(matches: list) -> str:
    if all(m == "proven" for m in matches):
        return "yes (proven)"
    if all(matches):
        return "yes (numerically)"
    return "no"


def _parameters(fam: Family, P: tuple, x):
    """(logits, back-to-p, substitution): a categorical P is differentiated through its logits (softmax), at the
    representative theta_i = log p_i (so that sum_j exp(theta_j) = 1); other families in their own parameters."""
    if fam.name != "categorical":
        return (), lambda e: e, {}
    logits = sp.symbols(f"theta1:{len(P) + 1}", real=True)
    total = sp.Add(*[sp.exp(t) for t in logits])
    softmax = {p: sp.exp(t) / total for p, t in zip(P, logits)}
    back = {t: sp.log(p) for p, t in zip(P, logits)}
    return logits, lambda e: sp.expand(e.subs(back).subs(sp.Add(*P), 1)), softmax


def _second_moment(fam: Family):
    """E_P[r^2] = exp(log of the integral of q^2/p) with the condition for it to be finite (Rényi at alpha = -1);
    None on a finite support (summed directly)."""
    d = renyi_derive(fam)
    return sp.Piecewise((sp.exp(d.numerator.subs(ALPHA, -1)), d.condition.subs(ALPHA, -1)), (sp.oo, True))


def _expect_r(fam: Family, f: sp.Expr, x, second) -> sp.Expr:
    """E_P[f] for f a polynomial in r with coefficients in x: E_P[h], E_P[r h] = E_Q[h], E_P[r^2] (h constant)."""
    P, Q = fam.symbols("_p"), fam.symbols("_q")
    if _finite(fam):
        ratio = sp.exp(fam.log_density(x, *Q) - fam.log_density(x, *P))
        return expect(fam, P, f.subs(R, ratio), x)[0]
    total = sp.S.Zero
    for (m,), h in sp.Poly(sp.expand(f), R).terms():
        if m == 0:
            total += expect(fam, P, h, x)[0]
        elif m == 1:
            total += expect(fam, Q, h, x)[0]
        elif m == 2 and not h.has(x):
            total += h * second
        else:
            raise NoClosedForm(f"E_P[r^{m} h(x)] for h = {h}: no rule")
    return total


def _finite(fam: Family) -> bool:
    support = fam.support(*fam.symbols())
    return isinstance(support, sp.FiniteSet) or (isinstance(support, sp.Range) and support.size.is_Integer)


def _tidy(expr: sp.Expr, fam: Family) -> sp.Expr:
    """readable(); for a categorical also with one p_i (and q_i) written as 1 minus the others, each i tried,
    the shortest kept (p_1 (1 - p_1 - p_2 - p_3) + p_1 - q_1 is p_1 - q_1)."""
    identities = {**fam.identities(*fam.symbols("_p")), **fam.identities(*fam.symbols("_q"))}
    candidates = [readable(expr, identities)]
    if identities and sp.count_ops(expr) < 400:
        P, Q = fam.symbols("_p"), fam.symbols("_q")
        for i in range(len(P)):
            eliminate = {P[i]: 1 - (sp.Add(*P) - P[i]), Q[i]: 1 - (sp.Add(*Q) - Q[i])}
            candidates.append(readable(sp.expand(expr.subs(eliminate)), identities))
    return min(candidates, key=sp.count_ops)


def _tidy_variance(variance: sp.Expr, fam: Family) -> sp.Expr:
    """A variance that holds under a condition (E_P[r^2] finite) as Piecewise((value, condition), (oo, True))."""
    pieces = sp.piecewise_fold(sp.expand(variance))
    if isinstance(pieces, sp.Piecewise):
        return sp.Piecewise(*[(b if b.is_infinite else _tidy(b, fam), c) for b, c in pieces.args])
    return _tidy(pieces, fam)


def check_estimators(p, q, dps: int = 50) -> list[tuple[str, float]]:
    """(quantity, digits) for every derived number at the given values against mpmath: E_P[k] and Var_P[k] by
    quadrature or summation of the definitions over P's declared density, E_P[grad k] with the derivative of k(x)
    in P's parameters taken numerically (mpmath.diff) at each fixed x, and grad KL(P||Q) as mpmath.diff of the
    quadrature of KL. A variance that is infinite in closed form is left out (its integral diverges)."""
    import mpmath

    from . import reference
    result = estimators(p, q)
    ip, iq = instance(p), instance(q)
    fam = ip.family
    x, params = sp.Symbol("x", integer=fam.discrete, real=True), fam.symbols()
    log_p_at = sp.lambdify((x, *params), fam.log_density(x, *params), "mpmath")
    lq = reference.log_density(iq.family, iq.bound, dps)
    out = []
    with mpmath.workdps(dps + 10):
        theta0 = [reference.value(v, dps + 10) for v in ip.bound]
        if fam.name == "categorical":           # P through its logits: theta_i = log p_i
            theta0 = [mpmath.log(v) for v in theta0]
            log_p_at = _log_softmax_at(fam)
        lp = lambda t, th=tuple(theta0): log_p_at(t, *th)
        near = [(iq.family, iq.bound)]
        under_p = lambda f: reference.expectation(fam, ip.bound, f, dps, near)
        numeric = {"k1": lambda a, b: a - b, "k2": lambda a, b: (b - a) ** 2 / 2,
                   "k3": lambda a, b: mpmath.expm1(b - a) - (b - a)}
        for row in result.rows:
            k = numeric[row.name]
            mean = under_p(lambda t, k=k: k(lp(t), lq(t)))
            out.append((f"E_P[{row.name}]", reference.digits(reference.value(row.mean, dps), mean)))
            if not row.variance.is_infinite:
                variance = under_p(lambda t, k=k: k(lp(t), lq(t)) ** 2) - mean ** 2
                out.append((f"Var_P[{row.name}]", reference.digits(reference.value(row.variance, dps), variance)))
            for j, closed in enumerate(row.gradient):
                def slope(t, j=j, k=k):
                    moved = lambda v: k(log_p_at(t, *_with(theta0, j, v)), lq(t))
                    return mpmath.diff(moved, theta0[j])
                out.append((f"E_P[d{row.name}/d{result.parameters[j]}]",
                            reference.digits(reference.value(closed, dps), under_p(slope))))
        for j, closed in enumerate(result.kl_gradient):
            def kl_at(v, j=j):
                point = _with(theta0, j, v)
                density = lambda t: log_p_at(t, *point)
                return _expect_moved(fam, ip, point, lambda t: density(t) - lq(t), dps, near)
            out.append((f"dKL/d{result.parameters[j]}",
                        reference.digits(reference.value(closed, dps), mpmath.diff(kl_at, theta0[j]))))
    return out


def _with(values, j, v):
    return tuple(v if i == j else w for i, w in enumerate(values))


def _log_softmax_at(fam: Family):
    """(x, theta_1..theta_K) -> log softmax(theta)_x, as an mpmath function."""
    import mpmath

    def log_p(x, *theta):
        top = max(theta)
        return theta[int(x) - 1] - top - mpmath.log(mpmath.fsum(mpmath.exp(t - top) for t in theta))
    return log_p


def _expect_moved(fam: Family, ip: Instance, point, f, dps, near):
    """E[f(X)] under P with its parameters (or logits) moved to ``point``: the quadrature of KL at a nearby P."""
    import mpmath

    from . import reference
    if fam.name == "categorical":
        top = max(point)
        weights = [mpmath.exp(t - top) for t in point]
        total = mpmath.fsum(weights)
        return mpmath.fsum(w / total * f(i + 1) for i, w in enumerate(weights))
    work = max(dps, mpmath.mp.dps)        # mpmath.diff raises the precision: the quadrature must follow it
    exact = tuple(sp.Rational(sp.Float(v, work + 20)) for v in point)   # no rounding to 15 digits on the way
    return reference.expectation(fam, exact, f, work, near)
