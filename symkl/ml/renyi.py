"""Rényi divergence of order alpha through the log-partition, and the Jeffreys (symmetrised KL) divergence.

For one exponential family, p^alpha q^(1 - alpha) = h(x) exp(eta_alpha . T(x) - alpha A(eta_p) - (1 - alpha)
A(eta_q)) with eta_alpha = alpha eta_p + (1 - alpha) eta_q, so (a definition, typed here; every family's A is
its declaration's)

.. math:: D_\\alpha(P||Q) = \\frac{A(\\eta_\\alpha) - \\alpha A(\\eta_p) - (1 - \\alpha) A(\\eta_q)}{\\alpha - 1},

finite exactly when eta_alpha lies in the natural parameter space (always for 0 < alpha < 1; a condition for
alpha > 1), which is derived from the declaration too: the natural parameters solved for the family's own, and
those required to lie in their domains. Categorical has no declared exponential form: its D_alpha is the finite
sum of the definition. D_alpha -> KL(P||Q) as alpha -> 1 is checked against the catalog's KL.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache

import mpmath
import sympy as sp

from ..budget import attempt
from ..expectation import Step
from ..family import Family, FamilyError
from ..result import substitute
from ..simplify import readable
from ..spec import instance
from ..support import bounds
from . import reference
from .store import remembered, storable

ALPHA = sp.Symbol("alpha", positive=True)
LIMIT_SECONDS = 10.0


@dataclass(frozen=True)
class Divergence:
    """A derived divergence between P and Q (nats): expression, free symbols in order, when it is finite, how it
    was derived, and what checked it."""

    name: str
    p: str
    q: str
    expr: sp.Expr
    symbols: tuple[sp.Symbol, ...]
    condition: sp.Boolean
    steps: tuple[Step, ...]
    checks: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        return f"{self.name}({self.p}||{self.q})" if self.name != "J" else f"J({self.p}, {self.q})"

    def value(self, dps: int = 50):
        """The value at ``dps`` digits when every parameter is given (mpmath.inf when infinite)."""
        if self.expr.free_symbols:
            raise ValueError(f"{self.title} still has free parameters: "
                             f"{', '.join(s.name for s in self.symbols)}; give every value")
        if self.expr.is_infinite:
            return mpmath.inf
        return reference.value(self.expr, dps)

    def to_json(self) -> dict:
        out = {"name": self.name, "p": self.p, "q": self.q, "expr": str(self.expr), "latex": sp.latex(self.expr),
               "symbols": [s.name for s in self.symbols], "conditions": str(self.condition),
               "checks": list(self.checks), "unit": "nats"}
        if not self.expr.free_symbols:
            out["value"] = mpmath.nstr(self.value(30), 20)
        return out


def renyi(p, q, alpha=None) -> Divergence:
    """D_alpha(P||Q) = log(integral of p^alpha q^(1 - alpha))/(alpha - 1) for P and Q of one exponential family
    (or categorical), alpha symbolic unless given (alpha > 0, alpha != 1).

        >>> renyi("normal(0, 1)", "normal(1, 1)", alpha=sp.Rational(1, 2)).expr
        1/4
    """
    ip, iq = instance(p), instance(q)
    fam = ip.family
    if iq.family is not fam:
        raise FamilyError(f"the Rényi divergence in closed form needs P and Q from one family; got {fam.label} and "
                          f"{iq.family.label}")
    a = ALPHA if alpha is None else check_order(alpha)
    d = derive(fam)
    subs = {**ip.substitutions("_p"), **iq.substitutions("_q"), ALPHA: a}
    fixed = fixed_parameters(fam)
    for s in fixed:
        pv, qv = subs.get(s.symbol("_p"), s.symbol("_p")), subs.get(s.symbol("_q"), s.symbol("_q"))
        if pv != qv and not (isinstance(qv, sp.Symbol) and qv.name == s.name + "_q"):
            raise FamilyError(f"{fam.label}: P and Q must share {s.name} for this closed form (got {pv} and {qv})")
    condition = d.condition.subs(subs)
    expr = substitute(d.expr, subs)
    expr = readable(expr) if expr.free_symbols - {ALPHA} else expr   # numbers stay as derived (cheap)
    if condition is sp.false:
        expr = sp.oo
    elif expr.has(sp.nan, sp.zoo) or (not expr.free_symbols and not expr.is_finite and fam.discrete):
        expr = _finite_sum(fam, ip.bound, iq.bound, a)
    symbols = tuple(s for s in (*fam.symbols("_p"), *fam.symbols("_q"), ALPHA) if s in expr.free_symbols)
    return Divergence("D_alpha" if alpha is None else f"D_{a}", ip.label, iq.label, expr, symbols,
                      condition, d.steps + ((Step("with the given values", expr),) if len(subs) > 1 else ()),
                      d.checks)


def check_order(alpha) -> sp.Expr:
    """alpha as an exact number (text through the safe parser, a float by its decimal form: 0.3 is 3/10), refused
    unless 0 < alpha < oo and alpha != 1."""
    from ..parse import parse_number
    a = parse_number(alpha) if isinstance(alpha, str) else sp.Rational(str(alpha)) if isinstance(alpha, float) \
        else sp.sympify(alpha, strict=True)   # safe: strict; text went through the parser
    if a.is_infinite:
        raise ValueError(f"the Rényi order alpha must be finite, got {a} (D_oo is the max-divergence, not derived here)")
    if not a.is_number or not a.is_real:
        raise ValueError(f"the order alpha must be a number, got {alpha!r}")
    if not (a > 0) or a.is_infinite:
        raise ValueError(f"the Rényi order alpha must be > 0 and finite, got {a} (alpha <= 0 does not define a "
                         f"divergence)")
    if a == 1:
        raise ValueError("alpha = 1 is the limit, KL(P||Q) itself: use `symkl kl P Q`")
    return sp.Rational(str(a)) if isinstance(a, sp.Float) else a


@storable
@dataclass(frozen=True)
class _Derived:
    """D_alpha with everything symbolic; ``numerator`` is log of the integral of p^alpha q^(1 - alpha) (for any
    alpha where ``condition`` holds: the estimators take alpha = -1, the integral of q^2/p)."""

    expr: sp.Expr
    condition: sp.Boolean
    steps: tuple[Step, ...]
    checks: tuple[str, ...]
    numerator: sp.Expr


def fixed_parameters(fam: Family):
    """Parameters the natural parameters do not depend on (a binomial's n): P and Q must share them."""
    if fam.exp_family is None:
        return ()
    nat = fam.exp_family.natural(*fam.symbols())
    return tuple(p for p, s in zip(fam.params, fam.symbols()) if not any(e.has(s) for e in nat))


@cache
def derive(fam: Family) -> _Derived:
    """D_alpha for the family with every parameter (and alpha) symbolic (stored on disk)."""
    return remembered("renyi", fam.fingerprint(), lambda: _derive(fam))


def supported() -> list[Family]:
    """The catalog's families D_alpha is derived for, read from ``symkl.families`` when called (a family declared
    later joins by itself): univariate ones with an exponential-family form, and those on a small explicit
    finite support (categorical[3], by the finite sum)."""
    from .. import families
    return [f for f in families() if not isinstance(f.dim, sp.Symbol)
            and (_exponential(f) or f.dim is None and _definition_sum(f) is not None)]


def _exponential(fam: Family) -> bool:
    """An exponential family whose statistics do not depend on the parameters: studentt's form holds only at
    fixed df, loc and scale, so P and Q with different df do not share T(x) and the log-partition route fails."""
    return fam.exp_family is not None and not fam.exp_family.fixed_stats


def _refusal(fam: Family, why: str) -> FamilyError:
    names = ", ".join(f.label for f in supported())
    return FamilyError(f"{fam.label} {why}, so D_alpha has no closed-form route here (families with one: {names})")


def _derive(fam: Family) -> _Derived:
    if fam.dim is not None and fam.exp_family is None:
        raise _refusal(fam, "is multivariate with no exponential-family form declared")
    P, Q = fam.symbols("_p"), fam.symbols("_q")
    if not _exponential(fam):
        numerator = _definition_sum(fam)
        if numerator is None:
            raise _refusal(fam, "declares no exponential-family form with fixed statistics and has no small "
                                "finite support")
        expr = numerator / (ALPHA - 1)
        steps = (Step("D_alpha = log(sum_i p_i^alpha q_i^(1 - alpha))/(alpha - 1)", expr,
                      "the definition, a finite sum"),)
        return _Derived(expr, sp.true, steps, (limit_check(fam, numerator),), numerator)
    ef = fam.exp_family
    shared = {s.symbol("_q"): s.symbol("_p") for s in fixed_parameters(fam)}
    eta_p, eta_q = ef.natural(*P), tuple(e.subs(shared) for e in ef.natural(*Q))
    mix = tuple(ALPHA * a + (1 - ALPHA) * b for a, b in zip(eta_p, eta_q))
    log_partition = lambda eta: _powers(ef.log_partition(eta, *P))
    a_p, a_q, a_mix = (sp.simplify(log_partition(eta_p)), sp.simplify(log_partition(eta_q)), log_partition(mix))
    numerator = a_mix - ALPHA * a_p - (1 - ALPHA) * a_q
    candidates = [readable(numerator / (ALPHA - 1)), readable(sp.logcombine(sp.expand(numerator), force=True))
                  / (ALPHA - 1)]
    eta = fam.natural_symbols()
    domain = natural_domain(fam)
    condition = _tidy_condition(domain.subs(dict(zip(eta, mix))))
    steps = [Step("natural parameters eta_p", sp.Tuple(*eta_p)), Step("natural parameters eta_q", sp.Tuple(*eta_q)),
             Step("log-partition A(eta)", ef.log_partition(eta, *fam.symbols()), "the family's declaration"),
             Step("A(eta_p)", a_p), Step("A(eta_q)", a_q), Step("A(alpha eta_p + (1 - alpha) eta_q)", a_mix),
             Step("D_alpha = (A(eta_alpha) - alpha A(eta_p) - (1 - alpha) A(eta_q))/(alpha - 1)", candidates[0]),
             Step("natural parameter space", domain, "the natural parameters solved for the family's parameters, "
                                                     "those required to lie in their domains"),
             Step("finite when eta_alpha lies in it", condition)]
    if shared:
        steps.append(Step("shared parameters", None, ", ".join(f"{k} = {v}" for k, v in shared.items())))
    definition = _definition_sum(fam)
    if definition is not None:
        how = same(candidates[0], definition / (ALPHA - 1), fam)
        steps.append(Step("the definition as a finite sum", definition / (ALPHA - 1),
                          f"equal to the log-partition form: {how or 'NOT shown'}"))
        if how:
            candidates.append(definition / (ALPHA - 1))
    expr = min(candidates, key=sp.count_ops)
    return _Derived(expr, condition, tuple(steps), (limit_check(fam, numerator, shared),), numerator)


def _definition_sum(fam: Family) -> sp.Expr | None:
    """log(sum_x p(x)^alpha q(x)^(1 - alpha)) over a small explicit finite support, else None."""
    from ..divergence import density_at
    P, Q = fam.symbols("_p"), fam.symbols("_q")
    support = fam.support(*P)
    size = sp.sympify(support.size if isinstance(support, sp.Range) else len(support)   # safe: a size, never text
                      if isinstance(support, sp.FiniteSet) else sp.oo)
    if not size.is_Integer or size > 16:
        return None
    return sp.log(sp.Add(*[density_at(fam, k, P) ** ALPHA * density_at(fam, k, Q) ** (1 - ALPHA) for k in support]))


def _tidy_condition(condition: sp.Boolean) -> sp.Boolean:
    """Each relation as (polynomial) > 0 or < 0: positive denominators cleared, constants moved across."""
    def tidy(rel):
        if not isinstance(rel, (sp.StrictGreaterThan, sp.StrictLessThan)):
            return rel
        diff = sp.together(rel.lhs - rel.rhs)
        num, den = sp.fraction(diff)
        if den.is_positive:
            diff = sp.expand(num)
        sign = 1 if isinstance(rel, sp.StrictGreaterThan) else -1
        if sp.Add.make_args(diff)[0].could_extract_minus_sign():
            diff, sign = -diff, -sign
        return diff > 0 if sign > 0 else diff < 0
    return condition.replace(lambda e: isinstance(e, sp.Rel), tidy) if condition not in (sp.true, sp.false) \
        else condition


def _powers(expr: sp.Expr) -> sp.Expr:
    """exp(c1 log u1 + c2 log u2 + r) as u1^c1 u2^c2 exp(r): the log-partition at a mixture, readable."""
    def rewrite(e):
        terms = sp.Add.make_args(sp.expand(sp.expand_log(e.args[0], force=True)))
        logs = [t for t in terms if any(isinstance(f, sp.log) for f in sp.Mul.make_args(t))]
        powers = []
        for t in logs:
            (u,) = [f for f in sp.Mul.make_args(t) if isinstance(f, sp.log)]
            powers.append(u.args[0] ** (t / u))
        return sp.Mul(*powers) * sp.exp(sp.Add(*[t for t in terms if t not in logs]))
    return expr.replace(lambda e: isinstance(e, sp.exp), rewrite)


@cache
def natural_domain(fam: Family) -> sp.Boolean:
    """The natural parameter space as a condition on eta1, eta2, ...: the family's parameters solved from
    eta = natural(theta), each required to lie in its domain (open: eta is finite)."""
    ef, eta = fam.exp_family, fam.natural_symbols()
    nat = ef.natural(*fam.symbols())
    free = [(p, s) for p, s in zip(fam.params, fam.symbols()) if any(e.has(s) for e in nat)]
    plain = {s: sp.Dummy(s.name, real=True) for _, s in free}
    solutions = sp.solve([sp.Eq(e.subs(plain), t) for e, t in zip(nat, eta)], list(plain.values()), dict=True)
    for solution in solutions:
        parts = []
        for param, s in free:
            value = solution[plain[s]]
            needs = {"positive": [value > 0], "real": []}.get(param.domain, [value > 0, value < 1])
            parts += [_reduce(c, eta) for c in needs]
        condition = sp.And(*parts)
        if condition is not sp.false:
            return condition
    raise FamilyError(f"could not solve the natural parameters of {fam.label} for its parameters")


def _reduce(condition, eta):
    symbols = [e for e in eta if condition.has(e)]
    if len(symbols) != 1:
        return condition
    try:
        return sp.reduce_inequalities([condition], symbols)
    except (NotImplementedError, ValueError, TypeError):
        return condition


def limit_check(fam: Family, numerator: sp.Expr, shared: dict | None = None) -> str:
    """Whether D_alpha -> KL(P||Q) (the catalog's) as alpha -> 1: sympy's limit, else l'Hopital (the numerator
    vanishes at alpha = 1, so the limit is its derivative there); said how."""
    from .. import cache
    kl = cache.derivation("kl", fam, fam).expr
    if kl is None:
        return "alpha -> 1: not compared (the catalog has no closed-form KL for the family)"
    kl = kl.subs(shared or {})
    found = attempt(LIMIT_SECONDS, "the limit alpha -> 1", lambda: sp.limit(numerator / (ALPHA - 1), ALPHA, 1))
    by_limit = None
    if found is not None and not found.has(sp.Limit, sp.nan, sp.zoo, sp.oo):
        by_limit = same(found, kl, fam)
        if by_limit == "proven":
            return "alpha -> 1 gives KL(P||Q): proven (sympy's limit equals the catalog's KL)"
    at_one = same(numerator.subs(ALPHA, 1), sp.S.Zero, fam)
    by_rule = same(sp.diff(numerator, ALPHA).subs(ALPHA, 1), kl, fam) if at_one else None
    if by_rule == "proven" or by_rule and not by_limit:
        why = ("sympy's limit did not simplify to it" if by_limit else "sympy's limit failed" if found is None or
               found.has(sp.Limit) else "sympy's limit came back wrong")
        return (f"alpha -> 1 gives KL(P||Q): {by_rule} by l'Hopital (the numerator vanishes at 1 and its "
                f"derivative there equals the catalog's KL; {why})")
    if by_limit:
        return f"alpha -> 1 gives KL(P||Q): {by_limit} (sympy's limit against the catalog's KL)"
    return "alpha -> 1: FAILED (the limit differs from the catalog's KL)"


def same(a: sp.Expr, b: sp.Expr, fam: Family, extra: dict | None = None) -> str | None:
    """'proven' when a - b simplifies to 0 (a categorical's p_K written as 1 - p_1 - ...), 'numerically' when
    it does not but is below 1e-30 at three random points (30 digits), else None."""
    from ..check import _fill
    from ..spec import Instance
    eliminate = {}
    for suffix in ("_p", "_q"):
        for total, one in fam.identities(*fam.symbols(suffix)).items():
            last = sp.Add.make_args(total)[-1]
            eliminate[last] = one - (total - last)
    diff = (a - b).subs(eliminate)
    expanded = sp.expand(sp.expand_log(sp.expand_func(diff), force=True))
    if expanded == 0 or attempt(LIMIT_SECONDS, "simplification", lambda: sp.simplify(expanded)) == 0:
        return "proven"
    rng = random.Random(0)
    for _ in range(3):
        point = {}
        for suffix in ("_p", "_q"):
            values = _fill(Instance(fam, (None,) * len(fam.params)), rng)
            point.update(dict(zip(fam.symbols(suffix), values)))
        point[ALPHA] = sp.Rational(rng.randint(5, 195), 100)
        point.update({s: sp.Rational(rng.randint(-300, 300), 100) for s in extra or {}})
        shared = {s.symbol("_q"): point[s.symbol("_p")] for s in fixed_parameters(fam)}
        value = sp.N((a - b).subs({**point, **shared}), 40)
        if not value.is_number or abs(value) > 1e-30:
            return None
    return "numerically (30 digits at 3 random points)"


def _finite_sum(fam: Family, p_values, q_values, alpha) -> sp.Expr:
    """The definition as a sum over a finite support (for values on the boundary of the natural space: p = 1)."""
    from ..divergence import density_at
    lo, hi = bounds(fam.support(*p_values))
    if not hi.is_finite:
        raise FamilyError(f"{fam.label}: these values lie on the boundary of the natural parameter space")
    total = sp.Add(*[density_at(fam, k, p_values) ** alpha * density_at(fam, k, q_values) ** (1 - alpha)
                     for k in range(int(lo), int(hi) + 1) if density_at(fam, k, p_values) != 0])
    if total.has(sp.zoo) or total.is_infinite:   # q(x) = 0 where p(x) > 0 with alpha > 1: q^(1 - alpha) = oo
        return sp.oo
    return sp.oo if total == 0 else sp.log(total) / (alpha - 1)


def check_renyi(p, q, alpha, dps: int = reference.DPS) -> float | None:
    """Digits to which the closed form agrees with (1/(alpha - 1)) log E_P[(q/p)^(1 - alpha)] by quadrature or
    summation of P's and Q's declared log-densities (None: the quadrature did not converge)."""
    ip, iq = instance(p), instance(q)
    closed = renyi(ip, iq, alpha).value(dps)
    lp, lq = reference.log_density(ip.family, ip.bound, dps), reference.log_density(iq.family, iq.bound, dps)
    with mpmath.workdps(dps + 20):
        a = reference.value(check_order(alpha), dps + 20)
        inner = reference.expectation(ip.family, ip.bound, lambda x: mpmath.exp((1 - a) * (lq(x) - lp(x))), dps,
                                      near=[(iq.family, iq.bound)])
        if inner is None:
            return None
        numeric = mpmath.log(inner) / (a - 1)
    return reference.digits(closed, numeric)


def jeffreys(p, q) -> Divergence:
    """J(P, Q) = KL(P||Q) + KL(Q||P), from the catalog's two KLs (Q's result renamed to P's and Q's symbols)."""
    from ..query import kl
    forward, backward = kl(p, q), kl(q, p)
    fp, fq = forward.p.family, forward.q.family
    rename = {**{a: b for a, b in zip(fq.symbols("_p"), fq.symbols("_q"))},
              **{a: b for a, b in zip(fp.symbols("_q"), fp.symbols("_p"))}}
    if forward.expr is None or backward.expr is None:
        raise FamilyError(f"J({forward.p.label}, {forward.q.label}): no closed form for "
                          f"{'KL(P||Q)' if forward.expr is None else 'KL(Q||P)'}")
    back = backward.expr.xreplace(rename)
    if forward.expr.is_infinite or back.is_infinite:
        expr = sp.oo
    else:
        expr = readable(sp.piecewise_fold(forward.expr + back))
    symbols = tuple(dict.fromkeys(forward.symbols + tuple(s for s in backward.symbols if s not in rename)
                                  + tuple(rename[s] for s in backward.symbols if s in rename)))
    condition = sp.And(forward.conditions, backward.conditions.xreplace(rename))
    steps = (Step("KL(P||Q)", forward.expr, "the catalog"), Step("KL(Q||P)", back, "the catalog, symbols renamed"),
             Step("J = KL(P||Q) + KL(Q||P)", expr))
    return Divergence("J", forward.p.label, forward.q.label, expr, tuple(s for s in symbols if expr.has(s)),
                      condition, steps)


def check_jeffreys(p, q, dps: int = reference.DPS) -> float | None:
    """Digits to which J agrees with E_P[log p/q] + E_Q[log q/p] by quadrature or summation."""
    ip, iq = instance(p), instance(q)
    closed = jeffreys(ip, iq).value(dps)
    lp, lq = reference.log_density(ip.family, ip.bound, dps), reference.log_density(iq.family, iq.bound, dps)
    with mpmath.workdps(dps + 20):
        near_q, near_p = [(iq.family, iq.bound)], [(ip.family, ip.bound)]
        forward = reference.expectation(ip.family, ip.bound, lambda x: lp(x) - lq(x), dps, near=near_q)
        backward = reference.expectation(iq.family, iq.bound, lambda x: lq(x) - lp(x), dps, near=near_p)
        if forward is None or backward is None:
            return None
        return reference.digits(closed, forward + backward)
