"""Fitting Q to P by minimising the cross-entropy H(P, Q) over Q's parameters, which is minimising KL(P||Q).

Why they are the same: KL(P||Q) = H(P, Q) - H(P) (proven by symkl for the pair) and H(P) does not depend on Q's
parameters, so the gradients agree and so do the minimisers. The stationarity equations are solved by sympy
where they have a closed form (moment matching for a normal or exponential Q, p_q = p_p for a categorical), the
minimum is confirmed by the Hessian (and by convexity in Q's natural parameters for an exponential family),
and the closed-form argmin is checked against mpmath's findroot on the cross-entropy's gradient with P's
expectations computed by quadrature, not by the symbolic engine.

    >>> from symkl.ml.fit import fit
    >>> fit("gamma", "exponential").argmin
    {rate_q: rate_p/shape_p}
"""
from __future__ import annotations

from dataclasses import dataclass

import mpmath
import sympy as sp

from ..divergence import variable_for
from ..expectation import Step, split_terms
from ..family import FamilyError
from ..proof import prove
from ..quadrature import expectation_value
from ..query import cross_entropy, entropy, kl
from ..spec import Instance, check_shared_names, instance
from .stationary import (
    FAILED,
    PROVEN,
    definiteness,
    digits,
    gradient,
    hessian,
    number,
    sampler_for,
    solve_stationary,
    tidy,
    vanishes,
)

DPS = 50


class FitError(ValueError):
    """Q cannot be fitted to P by this route (infinite or conditional cross-entropy, no free parameter)."""


@dataclass(frozen=True)
class Check:
    """The closed-form argmin against mpmath findroot on quadrature moments at one point of P's parameters."""

    point: dict
    closed: dict
    numeric: dict
    digits: float


@dataclass(frozen=True)
class Fit:
    """argmin over Q's free parameters of KL(P||Q), with the steps that show it is argmin H(P, Q)."""

    p: Instance
    q: Instance
    variables: tuple
    cross: sp.Expr
    own: sp.Expr
    divergence: sp.Expr
    identity: str
    same_gradient: str
    gradient: tuple
    argmin: dict | None
    argmin_how: str
    second_order: str
    minors: tuple
    convexity: str
    checks: tuple
    steps: tuple
    at_values: dict | None = None
    minimum: sp.Expr | None = None

    @property
    def status(self) -> str:
        """closed form (checked), no closed form, or failed when a check found a difference."""
        if FAILED in (self.identity, self.same_gradient, self.second_order) or any(c.digits < 30 for c in self.checks if c.closed):
            return "failed"
        return "closed form" if self.argmin is not None else "no closed form"


def fit(p, q, points: int = 2, dps: int = DPS) -> Fit:
    """Fit Q to P: argmin over Q's free parameters (those a spec leaves open) of KL(P||Q) = argmin H(P, Q).

    The argmin is derived with P's parameters symbolic, then specialised to P's values where given.
    """
    ip, iq = instance(p), instance(q)
    check_shared_names(ip, iq)
    if ip.family.dim is not None and not isinstance(ip.family.dim, int) or \
            iq.family.dim is not None and not isinstance(iq.family.dim, int):
        raise FamilyError("fit needs families of a fixed dimension (mvnormal[2], not mvnormal[d])")
    general = Instance(ip.family, tuple(v if isinstance(v, str) else None for v in ip.bound))
    variables, eliminated, domains = _free_parameters(iq)
    if not variables:
        raise FitError(f"Q = {iq.label} has no free parameter to fit: leave some open (normal, normal(0, _))")
    divergence = kl(general, iq)
    if divergence.status != "closed":
        why = divergence.reason or "no closed form was found for it"
        raise FitError(f"KL({general.label}||{iq.label}) is {divergence.status} ({why}): nothing to minimise in "
                       f"closed form")
    cross = cross_entropy(general, iq).expr.subs(eliminated)
    own = _entropy_of(general)
    p_ident = ip.family.identities(*ip.family.symbols("_p"))
    p_free = [s for s in (*ip.family.symbols("_p"), *sorted(cross.free_symbols, key=str))
              if s in cross.free_symbols and s not in variables]
    sampler = sampler_for(list(dict.fromkeys(p_free)),
                          {**divergence.domains(), **domains}, identities=p_ident)
    identity = prove(general, iq).status
    grad = tuple(tidy(g) for g in gradient(cross, variables))
    same = [vanishes(dk - g) for dk, g in zip(gradient(divergence.expr.subs(eliminated), variables), grad)]
    steps = [Step("H(P, Q)", cross, "derived (E_P[-log q(X)])"), Step("H(P)", own, "derived (E_P[-log p(X)])"),
             Step("KL(P||Q) = H(P, Q) - H(P)", None, identity),
             Step("d H(P)/d theta_q", sp.Matrix(gradient(own, variables)), "H(P) has no parameter of Q"),
             Step("d KL/d theta_q - d H(P, Q)/d theta_q", None, ", ".join(same)),
             Step("stationarity: d H(P, Q)/d theta_q = 0", sp.Matrix(grad))]
    if eliminated:
        steps.insert(0, Step("constraint", sp.Tuple(*[sp.Eq(v, e) for v, e in eliminated.items()]), "eliminated"))
    argmin, how = _argmin(ip, iq, grad, variables, domains, sampler, p_ident)
    second, minors = "no closed-form stationary point", ()
    if argmin is not None:
        argmin.update({v: tidy(e.subs(argmin), p_ident) for v, e in eliminated.items()})
        second, minors = definiteness(hessian(cross, variables).subs(argmin), 1, sampler, p_ident)
        steps += [Step("argmin", sp.Tuple(*[sp.Eq(v, e) for v, e in argmin.items()]), how),
                  Step("leading minors of the Hessian at the argmin", sp.Matrix(minors), second)]
    convexity = _convexity(iq, eliminated)
    checks = tuple(_check(ip, iq, variables, eliminated, argmin, sampler, points, dps))
    at_values, minimum = _at_values(ip, argmin, divergence.expr.subs(eliminated))
    return Fit(ip, iq, tuple(variables), cross, own, divergence.expr, identity, _combined(same), grad, argmin, how,
               second, tuple(minors), convexity, checks, tuple(steps), at_values, minimum)


def _combined(statuses) -> str:
    found = set(statuses)
    return PROVEN if found == {PROVEN} else ", ".join(sorted(found))


def _argmin(ip, iq, grad, variables, domains, sampler, p_ident) -> tuple[dict | None, str]:
    """The one solution of grad = 0 in Q's domain by sympy's solve; failing that, for Q of P's own family,
    Q = P where the gradient is shown to vanish."""
    solutions = solve_stationary(list(grad), list(variables), domains, sampler)
    if solutions is not None and len(solutions) == 1:
        return {v: tidy(solutions[0][v], p_ident) for v in variables}, "sympy's solve; the one solution in Q's domain"
    if ip.family is iq.family:
        own = dict(zip(iq.family.symbols("_q"), ip.family.symbols("_p")))
        candidate = {v: own[v] for v in variables}
        if all(vanishes(g.subs(candidate)) == PROVEN for g in grad):
            return candidate, "sympy's solve finds no closed form; at Q = P the gradient simplifies to 0"
    return None, "sympy's solve finds no closed form"


def _free_parameters(iq: Instance) -> tuple[list, dict, dict]:
    """Q's free parameter symbols, the one eliminated by a constraint (a categorical's sum), their domains."""
    fam = iq.family
    subs = iq.substitutions("_q")
    free = [p.symbol("_q") for p, v in zip(fam.params, iq.bound) if v is None]
    domains = {p.symbol("_q"): p.domain for p in fam.params}
    eliminated = {}
    for total, value in fam.identities(*fam.symbols("_q")).items():
        open_ = [s for s in sp.Add.make_args(total) if s in free]
        if open_:
            last = open_[-1]
            eliminated[last] = sp.solve(sp.Eq(total.subs(subs), value), last)[0]
            free.remove(last)
    return free, eliminated, domains


def _entropy_of(general: Instance) -> sp.Expr:
    """H(P) in P's symbols with the _p suffix (a bound shared name keeps its own)."""
    own = entropy(general).expr
    return own.subs({par.symbol(): par.symbol("_p") for par, v in zip(general.family.params, general.bound)
                     if v is None})


def _convexity(iq: Instance, eliminated: dict) -> str:
    """H(P, Q) = A(eta) - eta . E_P[T] - E_P[log h] is convex in Q's natural parameters eta when the Hessian of
    the log-partition A (the covariance of T) is positive definite: then the stationary point is the global
    minimum. Only for an exponential-family Q with every parameter free."""
    fam = iq.family
    ef = fam.exp_family
    if ef is None or eliminated or any(v is not None for v in iq.bound):
        return "not applicable (Q is not a fully free exponential family)"
    eta, params = fam.natural_symbols(), fam.symbols("_q")
    fixed = [p.symbol("_q") for p in fam.params if p.domain == "posint"]
    if len(eta) + len(fixed) != len(params):
        return "not applicable (the natural parameters do not map one to one onto Q's)"
    natural = dict(zip(eta, ef.natural(*params)))
    cov = hessian(ef.log_partition(eta, *params), list(eta)).subs(natural)
    sampler = sampler_for(params, {p.symbol("_q"): p.domain for p in fam.params})
    status, _ = definiteness(cov, 1, sampler)
    where = {PROVEN: "proven", FAILED: "failed"}.get(status, f"not decided symbolically; positive {status}")
    return f"convex in Q's natural parameters (Hessian of A(eta) = Cov[T(X)] positive definite): {where}"


def _check(ip, iq, variables, eliminated, argmin, sampler, points, dps):
    """At P's values (or sampled points): findroot on the gradient of H(P, Q) = -sum c_h(theta) E_P[h(X)],
    with c_h from Q's declared log-density and E_P[h(X)] by quadrature or summation."""
    fp, fq = ip.family, iq.family
    if fp.dim is not None or fq.dim is not None:
        return []   # the quadrature here is one-dimensional; the report says there is no numeric check
    given = [v for v in ip.bound if v is not None and not isinstance(v, str)]
    p_subs = ip.substitutions("_p")
    if len(given) == len(fp.params):
        point_list = [p_subs]
    elif any(isinstance(v, str) for v in ip.bound):
        return []
    else:
        point_list = [{**p, **p_subs} for p in sampler()[:points]]
    x = variable_for(fp, fq)
    q_args = [iq.substitutions("_q").get(s, s) for s in fq.symbols("_q")]
    log_q = fq.log_density(x, *q_args).subs(eliminated)
    out = []
    for point in point_list:
        p_values = tuple(point.get(s, s) for s in fp.symbols("_p"))
        found = numeric_argmin(lambda h, pv=p_values: expectation_value(fp, pv, h, x, dps + 10), log_q, x,
                               variables, _start(argmin, point, variables), dps)
        if found is None:
            continue
        closed = {v: number(argmin[v].subs(point), dps) for v in variables} if argmin else {}
        agree = min(digits(found[v], closed[v], dps) for v in variables) if closed else 0.0
        out.append(Check(point, closed, found, agree))
    return out


def numeric_argmin(moment, log_q: sp.Expr, x: sp.Symbol, variables: list, start: list, dps: int = DPS):
    """The root of grad H(P, Q) = -grad sum_h c_h(theta) E_P[h(X)] by mpmath's findroot, with log q(x) =
    sum_h c_h(theta) h(x) from Q's declaration and ``moment(h)`` = E_P[h(X)] at dps + 10 digits (quadrature:
    nothing from the symbolic derivation). None when findroot does not converge."""
    terms = list(split_terms(log_q, x).items())
    m = sp.symbols(f"m0:{len(terms)}")
    cross = -sp.Add(*[mi * c for mi, (_, c) in zip(m, terms)])
    with mpmath.workdps(dps + 10):
        moments = [mpmath.mpf(1) if h == 1 else moment(h) for h, _ in terms]
        f = sp.lambdify((*variables, *m), gradient(cross, variables), "mpmath")
        jf = sp.lambdify((*variables, *m), hessian(cross, variables).tolist(), "mpmath")
        try:
            root = mpmath.findroot(lambda *t: f(*t, *moments), start, J=lambda *t: jf(*t, *moments),
                                   tol=mpmath.mpf(10) ** (-2 * dps))
        except (ValueError, ZeroDivisionError):
            return None
        return dict(zip(variables, [root[i] for i in range(len(variables))]))


def _start(argmin, point, variables):
    """findroot's start: the closed form moved by 10%, or (without one) P's own values when Q is P's family."""
    if argmin:
        return [number(argmin[v].subs(point)) * mpmath.mpf("1.1") for v in variables]
    own = {s.name[:-2]: value for s, value in point.items()}
    return [number(own[v.name[:-2]]) if v.name[:-2] in own else mpmath.mpf(1) for v in variables]


def _at_values(ip: Instance, argmin: dict | None, divergence: sp.Expr):
    """The argmin and the minimal KL at P's given values, when every value is given."""
    subs = ip.substitutions("_p")
    if argmin is None or len(subs) < len(ip.family.params) or any(not v.is_number for v in subs.values()):
        return None, None
    values = {v: tidy(e.subs(subs)) for v, e in argmin.items()}
    return values, tidy(divergence.subs(subs).subs(values))
