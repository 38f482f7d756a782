"""Proofs of KL(P||Q) = H(P,Q) - H(P) by two independent routes, and of KL(P||P) = 0.

Route A derives KL as one quantity: the Bregman divergence of the log-partition for a same-family exponential
pair, else E_P of the simplified log-ratio. Route B derives H(P,Q) and H(P) separately. The difference is then
simplified to 0 under the parameters' assumptions; if simplification does not reach 0, 30-digit values at random
points decide between "numerically confirmed" and "failed". Never "proven" unless the difference is exactly 0.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from functools import partial

import mpmath
import sympy as sp
from sympy.functions.elementary.hyperbolic import HyperbolicFunction

from . import cache
from .budget import attempt
from .expectation import Step
from .result import specialize, substitute
from .simplify import readable
from .family import sample_value
from .spec import Instance, instance

PROVEN, NUMERIC, FAILED = "proven", "numerically confirmed", "failed"
SIMPLIFY_SECONDS = 20.0
QUADRATURE_DIGITS = 15
"""Digits to which KL and H(P,Q) - H(P) must agree by quadrature where neither has a closed form."""
NO_FORM = "no closed form to substitute into"


@dataclass(frozen=True)
class Invariance:
    """KL(P||Q) = KL(P_Y||Q_Y) where P and Q are the laws of X = g(Y), one g, with Y ~ P_Y or Q_Y of one base
    family: its status and the steps that prove it from the declarations."""

    base: str
    g: sp.Expr
    status: str
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Proof:
    """The status of the identity for P and Q, the steps, and the status of KL(P||P) = 0 for P's family."""

    p: str
    q: str
    status: str
    steps: tuple[Step, ...]
    self_status: str
    invariance: Invariance | None = None

    @property
    def proven(self) -> bool:
        return self.status == PROVEN and self.self_status == PROVEN


def prove(p, q) -> Proof:
    """Prove KL(P||Q) = H(P,Q) - H(P) for two specs by deriving both sides independently."""
    ip, iq = instance(p), instance(q)
    kl_expr, route = _kl_route_a(ip, iq)
    cross = specialize(cache.derivation("cross_entropy", ip.family, iq.family), ip, iq).expr
    own = specialize(cache.derivation("entropy", ip.family), ip, None).expr
    if own is not None:
        # only P's free parameters get the role suffix: a bound shared symbol (binomial(n, 0.3)) keeps its name
        own = own.subs({par.symbol(): par.symbol("_p") for par, v in zip(ip.family.params, ip.bound) if v is None})
    steps = [Step("route A: KL(P||Q)", kl_expr, route), Step("route B: H(P, Q)", cross, "E_P[-log q(X)]"),
             Step("route B: H(P)", own, "E_P[-log p(X)]")]
    if kl_expr is None or cross is None:
        status, how = _compare_by_quadrature(ip, iq)
    else:
        status, how = _compare(kl_expr, cross, own)
    steps.append(Step("KL(P||Q) - (H(P, Q) - H(P))", None, how))
    return Proof(ip.label, iq.label, status, tuple(steps), _self_divergence(ip.family),
                 invariance(ip.family, iq.family))


def invariance(fp, fq) -> Invariance | None:
    """For P and Q declared as X = g(Y) with one g free of parameters (lognormal = exp(normal)), prove that KL is
    unchanged by g, not assume it: the log-ratio of the declared densities at x = g(y) is the base families'
    log-ratio at y (the Jacobians cancel), so E_P[log p/q] is E_P_Y[log p_Y/q_Y] by the declared change of
    variables; and the KLs derived for both pairs agree. None for other pairs."""
    if fp.transformation is None or fq.transformation is None:
        return None
    (base, p_base, g), (base_q, q_base, g_q) = fp.transformation(*fp.symbols("_p")), \
        fq.transformation(*fq.symbols("_q"))
    y = sp.Symbol("y", positive=True) if base.variable().is_positive else sp.Symbol("y", real=True)
    x = sp.Symbol("x", positive=True)
    if base is not base_q or sp.simplify(g(y) - g_q(y)) != 0 or g(y).free_symbols != {y}:
        return None
    ratio_x = (fp.log_density(x, *fp.symbols("_p")) - fq.log_density(x, *fq.symbols("_q"))).subs(x, g(y))
    ratio_y = base.log_density(y, *p_base) - base_q.log_density(y, *q_base)
    pointwise = _zero(sp.expand_log(ratio_x - ratio_y, force=True))
    derived = cache.derivation("kl", fp, fq).expr
    on_base = cache.derivation("kl", base, base).expr
    if derived is None or on_base is None:
        agree = FAILED
    else:
        at = {**dict(zip(base.symbols("_p"), p_base)), **dict(zip(base.symbols("_q"), q_base))}
        agree = _zero(derived - on_base.subs(at))
    statuses = {pointwise, agree}
    status = FAILED if FAILED in statuses else NUMERIC if NUMERIC in statuses else PROVEN
    steps = (Step("log p(x) - log q(x) at x = g(y)", sp.expand_log(ratio_x, force=True),
                  f"x = {g(y)}: each density's Jacobian term cancels in the ratio"),
             Step(f"log p_Y(y) - log q_Y(y) under {base.label}", ratio_y, f"the two differ by 0: {pointwise}"),
             Step(f"KL({fp.label}||{fq.label}) - KL({base.label}||{base.label}) at the base parameters", None,
                  f"the derived closed forms differ by 0: {agree}"))
    return Invariance(base.label, g(sp.Symbol("Y")), status, steps)


def bregman_kl(ip: Instance, iq: Instance) -> sp.Expr | None:
    """KL as the Bregman divergence of the log-partition, A(eta_q) - A(eta_p) - (eta_q - eta_p).grad A(eta_p),
    where P and Q share an exponential family and its base measure; None elsewhere (or where eta is infinite,
    at p = 0 or 1). An independent route to the same-family KL: no integral is taken."""
    fam = ip.family
    ef = fam.exp_family
    if fam is not iq.family or ef is None:
        return None
    tp = tuple(ip.substitutions("_p").get(s, s) for s in fam.symbols("_p"))
    tq = tuple(iq.substitutions("_q").get(s, s) for s in fam.symbols("_q"))
    eta = fam.natural_symbols()
    x = fam.variable()
    if sp.simplify(ef.log_partition(eta, *tp) - ef.log_partition(eta, *tq)) != 0 or \
            sp.simplify(ef.log_base(x, *tp) - ef.log_base(x, *tq)) != 0 or \
            any(sp.simplify(a - b) != 0 for a, b in zip(ef.statistics(x, *tp), ef.statistics(x, *tq))):
        return None  # different base measures or statistics (studentt's at different loc): not one family
    A = lambda e: ef.log_partition(e, *tp)  # noqa: E731 - A with P's fixed parameters
    ep, eq = ef.natural(*tp), ef.natural(*tq)
    grad = [sp.diff(A(eta), e).subs(dict(zip(eta, ep))) for e in eta]
    bregman = readable(A(eq) - A(ep) - sum((b - a) * g for a, b, g in zip(ep, eq, grad)))
    return None if bregman.has(sp.nan, sp.zoo) else bregman


def _kl_route_a(ip: Instance, iq: Instance) -> tuple[sp.Expr | None, str]:
    """KL by the Bregman divergence where P and Q share an exponential family (and its base measure)."""
    bregman = bregman_kl(ip, iq)
    if bregman is not None:
        return bregman, ("Bregman divergence of the log-partition: "
                         "A(eta_q) - A(eta_p) - (eta_q - eta_p).grad A(eta_p)")
    r = specialize(cache.derivation("kl", ip.family, iq.family), ip, iq)
    return r.expr, "E_P[log p(X) - log q(X)], the log-ratio simplified before the expectation"


def _compare_by_quadrature(ip: Instance, iq: Instance) -> tuple[str, str]:
    """No closed form on a side: compare KL with H(P,Q) - H(P) by 40-digit quadrature at random points. The
    digits they agree to are reported (heavy tails leave a quadrature 20 digits, not 40); fewer than
    QUADRATURE_DIGITS is a failure."""
    from .query import cross_entropy, entropy, kl
    rng = random.Random(0)
    agreed = 40
    for _ in range(3):
        point = _valid_point(ip, iq, rng)
        p_at, q_at = Instance(ip.family, point[0]), Instance(iq.family, point[1])
        with mpmath.workdps(40):
            divergence = mpmath.mpmathify(kl(p_at, q_at).value(40))
            other = mpmath.mpmathify(cross_entropy(p_at, q_at).value(40) - entropy(p_at).value(40))
            if not all(mpmath.isfinite(v) for v in (divergence, other)):  # both oo agree; a nan never does
                if divergence == other == mpmath.inf:
                    continue
                return FAILED, f"no closed form; by quadrature KL = {divergence}, H(P,Q) - H(P) = {other}"
            gap = divergence - other
            relative = abs(gap) / max(1, abs(divergence))   # relative: KL may be ~1e174000 (pareto||moyal)
            agreed = min(agreed, 40 if relative == 0 else int(-mpmath.log10(relative)))
        if agreed < QUADRATURE_DIGITS:
            return FAILED, f"no closed form; quadrature values differ by {mpmath.nstr(gap, 5)} at a random point"
    return NUMERIC, f"no closed form on a side; equal to {agreed}+ digits by quadrature at 3 random points"


def _valid_point(ip: Instance, iq: Instance, rng: random.Random) -> list[tuple]:
    """Random values for the free parameters of P and Q that meet each family's relations (low < high)."""
    for _ in range(100):
        point = [tuple(_sample(p.symbol(), rng) if v is None else v for p, v in zip(i.family.params, i.bound))
                 for i in (ip, iq)]
        if not any(i.family.violations({p.name: v for p, v in zip(i.family.params, values)})
                   for i, values in zip((ip, iq), point)):
            return point
    raise ValueError(f"no valid parameter point found for {ip.label} and {iq.label}")


def _compare(kl_expr, cross, own) -> tuple[str, str]:
    if own is None:
        return FAILED, "H(P) has no closed form, so there is nothing to compare"
    if kl_expr == sp.oo:
        ok = cross == sp.oo and own.is_infinite is not True
        return (PROVEN, "both sides are oo (H(P) is finite)") if ok else (FAILED, "KL is oo but H(P, Q) is not")
    pairs = _branch_pairs(kl_expr, cross)
    if pairs is None:
        return FAILED, "the two routes give different finiteness conditions"
    statuses = [_zero((k - (c - own)).subs(_equalities(cond))) for k, c, cond in pairs if k != sp.oo or c != sp.oo]
    if all(s == PROVEN for s in statuses):
        return PROVEN, "simplifies to 0" + (" on every branch" if len(pairs) > 1 else "")
    if FAILED in statuses:
        return FAILED, "the difference is not 0 at some parameter values"
    return NUMERIC, "not simplified to 0, but 0 to 30 digits at random parameter points"


def _branch_pairs(a, b):
    """(branch of a, b under that branch's condition, condition) for each branch of a.

    An equality branch (binomial with n_p = n_q) is matched by substituting the equality into b.
    """
    if not isinstance(a, sp.Piecewise):
        return None if isinstance(b, sp.Piecewise) else [(a, b, sp.true)]
    b_branches = dict((c, v) for v, c in b.args) if isinstance(b, sp.Piecewise) else {sp.true: b}
    pairs = []
    for value, cond in a.args:
        if isinstance(cond, sp.Eq) and cond.rhs.is_Symbol:
            pairs.append((value, sp.piecewise_fold(b.subs(cond.rhs, cond.lhs)), cond))
        elif cond in b_branches:
            pairs.append((value, b_branches[cond], cond))
        else:
            return None
    return pairs


def _equalities(cond) -> dict:
    return {cond.rhs: cond.lhs} if isinstance(cond, sp.Eq) else {}


def _zero(diff: sp.Expr) -> str:
    """PROVEN when the difference simplifies to 0, else the verdict of 30-digit values at random points."""
    if diff == 0:
        return PROVEN
    together_logs = lambda e: e.replace(lambda f: isinstance(f, sp.log), lambda f: sp.log(sp.together(f.args[0])))  # noqa: E731
    candidates = [sp.expand(sp.expand_log(form(diff), force=True))
                  for form in (lambda e: e, together_logs, _special_functions_expanded)]
    if any(c == 0 for c in candidates):  # the cheap test first, for every form
        return PROVEN
    for candidate in candidates if not diff.has(sp.Sum) else []:  # simplify never combines series; on sinh/cosh
        if attempt(SIMPLIFY_SECONDS, "simplification", partial(sp.simplify, candidate)) == 0:  # forms it runs long
            return PROVEN
    rng, symbols = random.Random(0), sorted(diff.free_symbols, key=sp.default_sort_key)  # a set's order varies
    value_at, removable = _evaluator(diff, symbols), 0
    for _ in range(5):
        value = value_at({s: _sample(s, rng) for s in symbols})
        while value is sp.nan and removable < 5:  # 0/0 at one point (continuousbernoulli's lam = 1/2): another
            removable += 1
            value = value_at({s: _sample(s, rng) for s in symbols})
        if not value.is_Number or value is sp.nan or abs(value) > 1e-25:
            return FAILED
    return NUMERIC


def _evaluator(diff: sp.Expr, symbols: list):
    """point -> diff to 30 digits; a series summed outward from its largest term (sympy's evalf of
    negativebinomial's trigamma series took minutes)."""
    if not diff.has(sp.Sum):
        return lambda point: sp.N(substitute(diff, point), 30)
    from .numeric import mpmath_lambda
    f = mpmath_lambda(symbols, diff)

    def at(point):
        with mpmath.workdps(40):
            value = f(*[mpmath.mpf(sp.Float(point[s], 45)._mpf_) for s in symbols])
            return sp.Float(value, 30) if mpmath.isfinite(value) else sp.nan
    return at


def _special_functions_expanded(expr: sp.Expr) -> sp.Expr:
    """sinh and cosh as exponentials, polygamma(m, z + n) by its recurrence down to z (a numeric z into (0, 1],
    where sympy knows values such as polygamma(1, 1/2) = pi^2/2): equal forms that expectation routes reach
    (moyal's polygamma(1, 5/2) against polygamma(1, 3/2)) and plain simplify does not match."""
    expr = expr.replace(lambda f: isinstance(f, HyperbolicFunction), lambda f: f.rewrite(sp.exp))
    return sp.expand_func(expr.replace(lambda f: isinstance(f, sp.polygamma), lambda f: _polygamma_shifted(*f.args)))


def _polygamma_shifted(m: sp.Expr, z: sp.Expr) -> sp.Expr:
    """polygamma(m, z) = polygamma(m, z - n) + (-1)^m m! sum_j 1/(z - n + j)^(m + 1), n the integer part of
    z's rational term (less one when z is that number alone); at most 50 steps."""
    z = sp.expand(z)  # (df + 3)/2 as df/2 + 3/2
    k, rest = z.as_coeff_Add()
    if not (m.is_Integer and m >= 0 and k.is_Rational and k >= 1):
        return sp.polygamma(m, z)
    n = int(sp.floor(k)) if rest != 0 else int(sp.ceiling(k)) - 1
    if not 0 < n <= 50:
        return sp.polygamma(m, z)
    base = z - n
    return sp.polygamma(m, base) + (-1) ** m * sp.factorial(m) * sp.Add(*[1 / (base + j) ** (m + 1) for j in range(n)])


def _sample(symbol: sp.Symbol, rng: random.Random) -> sp.Rational:
    """A value for a symbol known only by its assumptions: positives drawn in (0, 1), where both p and 1 - p
    are positive, so that no log turns complex."""
    return sample_value("posint" if symbol.is_integer else "unit" if symbol.is_positive else "real", rng)


def _self_divergence(fam) -> str:
    """KL(P||P) = 0 for the family: substitute Q's parameters by P's in the derived KL and simplify."""
    r = specialize(cache.derivation("kl", fam, fam), Instance(fam, (None,) * len(fam.params)),
                   Instance(fam, (None,) * len(fam.params)))
    if r.expr is None:  # nothing derived to check; not a failure of anything derived
        return NO_FORM
    same = dict(zip(fam.symbols("_q"), fam.symbols("_p")))
    return _zero(substitute(r.expr, same))
