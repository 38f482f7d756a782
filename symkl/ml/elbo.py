"""The evidence lower bound: log p(x) = ELBO(q) + KL(q(z) || p(z|x)), derived and proven for conjugate models.

Why: variational inference maximises the ELBO = E_q[log p(x, z)] - E_q[log q(z)] because log p(x) does not depend
on q, so a larger ELBO is a smaller KL to the posterior, zero exactly at q = p(z|x). Here each side is derived
from the model's declared densities (catalog families): the posterior by Bayes' rule, matching the joint's
dependence on z with the prior's sufficient statistics (conjugacy); log p(x) = log p(x, z) - log p(z|x), which
must come out free of z; the ELBO by the expectation engine; KL(q||p(z|x)) from the catalog. The identity is
simplified to 0, the ELBO's stationary point is solved for (or, where sympy cannot, the posterior is shown to
be stationary), and every closed form is compared with mpmath quadrature at given points.

    >>> from symkl.ml.elbo import elbo
    >>> elbo("normal-normal").identity
    'proven'
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import mpmath
import sympy as sp

from .. import cache
from ..expectation import Step, expect, split_terms
from ..families import lookup
from ..family import Family, FamilyError
from ..parse import ParseError, parse_number
from ..quadrature import expectation_value
from ..simplify import readable
from .stationary import (
    FAILED,
    PROVEN,
    definiteness,
    digits,
    gradient,
    hessian,
    number,
    solve_stationary,
    tidy,
    vanishes,
)

DPS = 45


@dataclass(frozen=True)
class Model:
    """A conjugate model as data: the prior (a catalog family at parameters in the model's symbols), the
    log-likelihood as a function of z built from catalog declarations, and the variational family's
    parameters in terms of its own symbols."""

    name: str
    about: str
    prior: Family
    prior_params: Callable[[dict], tuple]
    log_likelihood: Callable[[dict, sp.Symbol], sp.Expr]
    q_params: Callable[[dict], tuple]
    symbols: dict
    points: tuple
    relations: tuple = field(default=())

    @property
    def variational(self) -> tuple:
        """The symbols of q's parameters (the last two of the model's symbols)."""
        return tuple(self.symbols.values())[-2:]


def _symbols(spec: str) -> dict:
    """'m0 real, s0 positive' -> {'m0': Symbol('m0', real=True), ...}."""
    kinds = {"real": {"real": True}, "positive": {"positive": True}, "count": {"integer": True, "positive": True},
             "count0": {"integer": True, "nonnegative": True}}
    return {name: sp.Symbol(name, **kinds[kind]) for name, kind in (item.split() for item in spec.split(","))}


def _bernoulli_observations(s, theta):
    """n Bernoulli observations with k ones: k log p(1|theta) + (n - k) log p(0|theta), from the declaration."""
    ld = lookup("bernoulli").log_density
    return s["k"] * ld(1, theta) + (s["n"] - s["k"]) * ld(0, theta)


_NN = _symbols("m0 real, s0 positive, s positive, x real, m real, v positive")
_BB = _symbols("a positive, b positive, n count, k count0, alpha positive, beta positive")
R = sp.Rational
MODELS = {
    "normal-normal": Model(
        "normal-normal", "z ~ normal(m0, s0), x | z ~ normal(z, s); q(z) = normal(m, sqrt(v)) (v the variance)",
        lookup("normal"), lambda s: (s["m0"], s["s0"]),
        lambda s, z: lookup("normal").log_density(s["x"], z, s["s"]),
        lambda s: (s["m"], sp.sqrt(s["v"])), _NN,
        ({"m0": 0, "s0": 1, "s": R(1, 2), "x": R(6, 5), "m": R(1, 3), "v": R(1, 4)},
         {"m0": -1, "s0": 2, "s": 3, "x": 2, "m": 0, "v": 2})),
    "beta-bernoulli": Model(
        "beta-bernoulli", "theta ~ beta(a, b), n Bernoulli(theta) observations with k ones (n = 1, k = x for one "
        "observation x); q(theta) = beta(alpha, beta)",
        lookup("beta"), lambda s: (s["a"], s["b"]), _bernoulli_observations,
        lambda s: (s["alpha"], s["beta"]), _BB,
        ({"a": 2, "b": 3, "n": 10, "k": 7, "alpha": 3, "beta": 4},
         {"a": R(1, 2), "b": R(1, 2), "n": 1, "k": 1, "alpha": 1, "beta": 2}),
        ((lambda v: v["k"] <= v["n"], "k <= n"),)),
}


@dataclass(frozen=True)
class Check:
    point: dict
    closed: dict
    numeric: dict
    digits: dict


@dataclass(frozen=True)
class Elbo:
    """The derived forms for a model, the identity's status, the maximiser and the numeric checks."""

    model: Model
    posterior: tuple
    log_evidence: sp.Expr
    elbo: sp.Expr
    divergence: sp.Expr
    identity: str
    maximiser: dict
    maximiser_how: str
    at_posterior: dict
    checks: tuple
    steps: tuple

    @property
    def ok(self) -> bool:
        return self.identity == PROVEN and FAILED not in self.at_posterior.values() and \
            all(d >= 40 for c in self.checks for d in c.digits.values())


def model(name: str) -> Model:
    key = name.strip().lower()
    if key not in MODELS:
        raise FamilyError(f"unknown model {name!r}; known models: {', '.join(MODELS)}")
    return MODELS[key]


def conjugate_posterior(prior: Family, log_joint: sp.Expr, z: sp.Symbol) -> tuple[tuple, list[Step]]:
    """The posterior's parameters: log p(x, z) = eta . T(z) + (terms free of z) with T the prior's sufficient
    statistics makes p(z|x) the prior's family at natural parameters eta; solved for its ordinary parameters."""
    ef = prior.exp_family
    stats = [sp.expand(sp.expand_log(t)) for t in ef.stats(z)]
    eta = [sp.S.Zero] * len(stats)
    for h, coeff in split_terms(log_joint, z).items():
        if h == 1:
            continue
        if h not in stats:
            raise ValueError(f"not conjugate: log p(x, z) has the term {h}, which is not a statistic of {prior.label}")
        eta[stats.index(h)] += coeff
    params = prior.symbols("_post")  # apart from the model's own symbols (a beta prior's a, b)
    solutions = solve_stationary([n - e for n, e in zip(ef.natural(*params), eta)], list(params),
                                 {s: p.domain for s, p in zip(params, prior.params)})
    if solutions is None or len(solutions) != 1:
        raise ValueError(f"could not solve the natural parameters {eta} for {prior.label}'s parameters")
    post = tuple(tidy(solutions[0][s]) for s in params)
    return post, [Step("log p(x, z) as eta . T(z) + const", sp.Tuple(*[sp.Eq(sp.Symbol(f"eta{i + 1}"), e) for i, e
                                                                       in enumerate(eta)]), f"T = {tuple(stats)}"),
                  Step("posterior p(z|x)", sp.Tuple(*[sp.Eq(s, v) for s, v in zip(params, post)]),
                       f"{prior.label} with those natural parameters (conjugacy)")]


def elbo(name: str, points: tuple | None = None) -> Elbo:
    """Derive log p(x), the ELBO and KL(q||p(z|x)) for a model, prove log p(x) = ELBO + KL, find the maximiser,
    and check the closed forms by quadrature at ``points`` (dicts of values by name; the model's own by default)."""
    mod = model(name)
    s, fam = mod.symbols, mod.prior
    z = sp.Symbol("z", **fam.variable().assumptions0)
    log_joint = fam.log_density(z, *mod.prior_params(s)) + mod.log_likelihood(s, z)
    post, steps = conjugate_posterior(fam, log_joint, z)
    log_evidence = readable(sp.expand(sp.expand_log(log_joint - fam.log_density(z, *post), force=True)))
    if log_evidence.has(z):
        raise ValueError(f"log p(x, z) - log p(z|x) still depends on z: {log_evidence}")
    q = mod.q_params(s)
    expected, _ = expect(fam, q, log_joint, z)
    own = cache.derivation("entropy", fam).expr.subs(dict(zip(fam.symbols(), q)))
    value = readable(sp.expand(expected + own))
    kl_family = cache.derivation("kl", fam, fam).expr
    divergence = kl_family.subs(dict(zip(fam.symbols("_p"), q))).subs(dict(zip(fam.symbols("_q"), post)))
    identity = vanishes(log_evidence - (value + divergence))
    steps += [Step("log p(x) = log p(x, z) - log p(z|x)", log_evidence, "Bayes' rule; free of z"),
              Step("E_q[log p(x, z)]", expected, "expectation engine"),
              Step("H(q) = -E_q[log q(z)]", own, "catalog entropy"),
              Step("ELBO", value), Step("KL(q || p(z|x))", divergence, "catalog KL at the posterior"),
              Step("log p(x) - (ELBO + KL)", sp.S.Zero if identity == PROVEN else None, identity)]
    maximiser, how, at_posterior = _maximise(mod, value, divergence, post)
    steps.append(Step("ELBO's maximiser", sp.Tuple(*[sp.Eq(k, v) for k, v in maximiser.items()]), how))
    checks = tuple(_check(mod, z, log_joint, post, log_evidence, value, divergence, p) for p in (points or mod.points))
    return Elbo(mod, post, log_evidence, value, divergence, identity, maximiser, how, at_posterior, checks,
                tuple(steps))


def _maximise(mod: Model, value, divergence, post) -> tuple[dict, str, dict]:
    """Where the ELBO's gradient in q's parameters vanishes: q's parameters that make q the posterior."""
    variables = list(mod.variational)
    target = _q_matching(mod, post)
    grad = gradient(value, variables)
    solutions = solve_stationary(grad, variables, {v: "real" if v.is_real and not v.is_positive else "positive"
                                                   for v in variables})
    status = {}
    if solutions is not None and len(solutions) == 1:
        maximiser = {v: tidy(solutions[0][v]) for v in variables}
        how = "sympy's solve of d ELBO/d(q's parameters) = 0: the one solution"
        status["stationary point = posterior"] = _all(vanishes(maximiser[v] - target[v]) for v in variables)
    else:
        maximiser = target
        how = ("sympy's solve finds no closed form; the posterior's parameters make the gradient 0, and a numeric "
               "maximisation from q = prior (scipy BFGS, then mpmath findroot) reaches them")
        status["numeric maximisation from q = prior reaches the posterior"] = _by_findroot(mod, value, target)
    status["gradient at the posterior"] = _all(vanishes(g.subs(target)) for g in grad)
    status["KL at the posterior"] = vanishes(divergence.subs(target))
    points = [{mod.symbols[k]: v for k, v in p.items()} for p in mod.points]
    status["Hessian negative definite there"] = definiteness(hessian(value, variables).subs(target), -1,
                                                             lambda: points)[0]
    return maximiser, how, status


def _all(statuses) -> str:
    found = set(statuses)
    return PROVEN if found == {PROVEN} else "; ".join(sorted(found))


def _q_matching(mod: Model, params: tuple) -> dict:
    """q's own parameters that make q the prior's family at ``params`` (v = sigma^2 for a normal q)."""
    variables = list(mod.variational)
    found = sp.solve([a - b for a, b in zip(mod.q_params(mod.symbols), params)], variables, dict=True)
    return {v: tidy(found[0][v]) for v in variables}


def _by_findroot(mod: Model, value: sp.Expr, target: dict) -> str:
    """Maximise the closed-form ELBO numerically from q = prior (scipy, in log coordinates for positive
    parameters), polish with mpmath's findroot on its gradient, and give the worst digits of agreement with the
    posterior over the model's points."""
    from scipy.optimize import minimize
    variables = list(mod.variational)
    logs = {v: sp.Symbol(f"log_{v}", real=True) for v in variables if v.is_positive}
    coords = [logs.get(v, v) for v in variables]
    back = {v: sp.exp(u) for v, u in logs.items()}
    start = _q_matching(mod, mod.prior_params(mod.symbols))
    worst = float(DPS)
    for point in mod.points:
        subs = {mod.symbols[k]: sp.sympify(v, strict=True) for k, v in point.items() if mod.symbols[k] not in variables}  # safe: strict
        objective = value.subs(subs).subs(back)
        field_ = gradient(objective, coords)
        negative = sp.lambdify([coords], -objective, "scipy")
        slope = sp.lambdify([coords], [-g for g in field_], "scipy")
        begin = [float(start[v].subs(subs)) for v in variables]
        begin = [float(mpmath.log(b)) if v in logs else b for b, v in zip(begin, variables)]
        rough = minimize(negative, begin, jac=slope, method="BFGS", options={"gtol": 1e-10}).x
        f = sp.lambdify(coords, field_, "mpmath")
        jac = sp.lambdify(coords, [[sp.diff(g, c) for c in coords] for g in field_], "mpmath")
        with mpmath.workdps(DPS + 10):
            try:
                root = mpmath.findroot(f, [mpmath.mpf(r) for r in rough], J=jac)
            except (ValueError, ZeroDivisionError):
                return FAILED
            found = [mpmath.exp(root[i]) if v in logs else root[i] for i, v in enumerate(variables)]
            worst = min([worst] + [digits(r, number(target[v].subs(subs)), DPS) for r, v in zip(found, variables)])
    return f"{worst:.0f} digits"


def _check(mod, z, log_joint, post, log_evidence, value, divergence, point) -> Check:
    """log p(x), the ELBO and the KL at a point by mpmath quadrature over z of the declared densities only."""
    subs = {mod.symbols[k]: sp.sympify(v, strict=True) for k, v in point.items()}   # safe: strict, numbers only
    fam = mod.prior
    joint = log_joint.subs(subs)
    q = tuple(sp.sympify(v).subs(subs) for v in mod.q_params(mod.symbols))   # safe: the model's own expressions
    prior = tuple(sp.sympify(v).subs(subs) for v in mod.prior_params(mod.symbols))   # safe: the model's own
    with mpmath.workdps(DPS + 10):
        evidence = mpmath.log(expectation_value(fam, prior, sp.exp(mod.log_likelihood(mod.symbols, z).subs(subs)),
                                                z, DPS + 10))
        log_q = fam.log_density(z, *q)
        bound = expectation_value(fam, q, joint - log_q, z, DPS + 10)
        gap = expectation_value(fam, q, log_q - joint + sp.Float(mpmath.nstr(evidence, DPS + 10), DPS + 10), z,
                                DPS + 10)
    numeric = {"log p(x)": evidence, "ELBO": bound, "KL": gap}
    closed = {"log p(x)": log_evidence.subs(subs), "ELBO": value.subs(subs), "KL": divergence.subs(subs)}
    agree = {k: digits(numeric[k], sp.N(closed[k], DPS + 10), DPS) for k in closed}
    return Check(point, closed, numeric, agree)


def values_point(mod: Model, text: str) -> dict:
    """A check point from 'm0=0, s0=1, ...' (read by the safe parser), the model's first point filling the rest."""
    point = dict(mod.points[0])
    for item in filter(None, (t.strip() for t in text.split(","))):
        name, eq, number = item.partition("=")
        name = name.strip()
        if not eq or name not in mod.symbols:
            raise FamilyError(f"--values takes name=value pairs for {', '.join(mod.symbols)}; got {item!r}")
        try:
            point[name] = parse_number(number.strip())
        except ParseError as err:
            raise FamilyError(f"--values {name}: {err}") from None
    for name, v in point.items():
        value = sp.sympify(v, strict=True)  # safe: parse_number's output or the model's own declared point
        problem = _violation(mod.symbols[name], value)
        if problem:
            raise FamilyError(f"{name} must be {problem}, got {v}")
    for rule, text_ in mod.relations:
        if not rule(point):
            raise FamilyError(f"{mod.name} needs {text_}")
    return point


def _violation(sym: sp.Symbol, v: sp.Expr) -> str | None:
    """What a value breaks of its symbol's assumptions, or None."""
    if not v.is_real or v.is_infinite:
        return "a finite real number"
    if sym.is_integer and not v.is_integer:
        return "a whole number"
    if sym.is_positive and not v > 0:
        return "> 0"
    if sym.is_nonnegative and not v >= 0:
        return ">= 0"
    return None
