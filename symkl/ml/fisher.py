"""Fisher information by independent routes, and the second-order expansion of KL that trust regions use.

Why: KL(P_theta || P_theta+d) = 1/2 d^T F(theta) d + O(|d|^3), so a KL trust region (TRPO, PPO's penalty,
natural gradient) is locally the Fisher quadratic form. symkl derives F three ways, each from the family's
declaration: (A) the Hessian of the catalog's derived KL(P_theta||P_theta') in theta' at theta' = theta, or,
where the KL has kinks (laplace's |mu_p - mu_q|), the h^2 coefficient of KL(theta||theta + h d); (B)
E[score score^T]; (C) -E[Hessian of log p], both through the expectation engine. The routes must agree
(simplified difference 0); where they do not (a support that moves with the parameters), that is reported.
The remainder (KL - 1/2 h^2 d^T F d)/h^3 is then evaluated at 60 digits as h -> 0 (KL from its closed form, or
where it has none from its defining integral by quadrature): it stays bounded only if F is right.

    >>> from symkl.ml.fisher import fisher
    >>> fisher("normal").matrix
    Matrix([
    [sigma**(-2),          0],
    [          0, 2/sigma**2]])
"""
from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

import mpmath
import sympy as sp

from .. import cache
from ..budget import attempt
from ..expectation import NoClosedForm, expect
from ..family import Family, FamilyError, sample_value
from ..numeric import mpmath_lambda
from ..proof import NUMERIC
from ..quadrature import numeric_value
from ..result import substitute
from ..spec import Instance, instance
from .stationary import FAILED, PROVEN, hessian, number, tidy, vanishes

TABLE_PARAMS = 4
"""A family declared per size enters the table at the largest size up to 3 with at most this many parameters."""
NO_KL_ROUTE = "nothing to compare: no F from KL"
NOT_DERIVED = "not derived: no closed form by this route"
BY_EXPECTATION = "-E[Hessian of log p], equal to E[score score^T] (no smooth closed-form KL to differentiate)"
H_STEPS = tuple(mpmath.mpf(10) ** -k for k in range(2, 9))
ROUTE_SECONDS = 120.0
SCORE_ROUTE, CURVATURE_ROUTE = "E[score score^T]", "-E[Hessian of log p]"
ROUTES_AGREE = f"{SCORE_ROUTE} = {CURVATURE_ROUTE}"
ROUTE_NAMES = (SCORE_ROUTE, CURVATURE_ROUTE, ROUTES_AGREE)


def catalog_table() -> tuple[tuple[str, bool], ...]:
    """(spec, by logits) for every family ``symkl.families`` declares, read at call time, so that a family
    declared later joins the table (and ``symkl fisher --all``, and the tests) by itself: plain families by
    name, families declared per size at ``table_size``, and those whose parameters are probabilities summing
    to 1 also by logits."""
    from ..families import INDEXED, names
    specs = [name if name not in INDEXED else f"{name}[{table_size(INDEXED[name])}]" for name in names()]
    return tuple((s, False) for s in specs) + tuple((s, True) for s in specs if has_logits(instance(s).family))


def table_size(entry) -> int:
    """The largest size up to 3 whose declaration has at most TABLE_PARAMS parameters (categorical[3],
    diagnormal[2]), else the smallest size from 2 (mvnormal[2]): small enough for sympy, large enough that
    coordinates interact."""
    sizes = [k for k in entry.sizes if k >= 2]
    small = [k for k in sizes if k <= 3 and len(entry(k).params) <= TABLE_PARAMS]
    return max(small) if small else min(sizes)


def has_logits(fam: Family) -> bool:
    """A family whose parameters are probabilities summing to 1 (categorical) has the chart p = softmax(z)."""
    return fam.discrete and bool(fam.identities(*fam.symbols()))


@dataclass(frozen=True)
class Chart:
    """Coordinates theta on a family: ``params(theta)`` gives the family's parameters (a categorical's last
    probability is 1 - the others; by logits, p = softmax(z)); integer parameters (a binomial's n) stay fixed."""

    family: Family
    label: str
    symbols: tuple
    params: Callable[[tuple], tuple]
    identities: dict
    readout: dict = field(default_factory=dict)
    values: dict = field(default_factory=dict)

    def kl(self, theta: tuple, other: tuple) -> sp.Expr | None:
        """The catalog's KL(P_theta || P_other) in these coordinates (None without a closed form)."""
        d = cache.derivation("kl", self.family, self.family)
        if d.expr is None:
            return None
        fam = self.family
        subs = dict(zip(fam.symbols("_p"), self.params(theta))) | dict(zip(fam.symbols("_q"), self.params(other)))
        return substitute(d.expr, subs)


def chart(spec, logits: bool = False) -> Chart:
    """The coordinates for a family spec: its free parameters, or a categorical's logits z1..zK; the spec's
    values become the chart's point (probabilities p as logits log p)."""
    inst = spec if isinstance(spec, Instance) else instance(spec)
    fam = inst.family
    if isinstance(fam.dim, sp.Symbol):
        raise FamilyError(f"{fam.label} is in matrix symbols: use a fixed dimension, as in mvnormal[2]")
    own = fam.symbols()
    given = {s: v for s, v in zip(own, inst.bound) if v is not None and not isinstance(v, str)}
    if logits:
        if not has_logits(fam):
            raise FamilyError(f"--logits is for families of probabilities summing to 1 (categorical), not "
                              f"{fam.label}")
        zeros = [s.name for s in own if s in given and given[s] == 0]
        if zeros:
            raise FamilyError(f"{inst.label}: {', '.join(zeros)} = 0 has no logit (log 0 = -oo); by logits every "
                              f"probability must be > 0")
        z = sp.symbols(f"z1:{len(own) + 1}", real=True)
        at = {zi: sp.log(given[s]) for zi, s in zip(z, own) if s in given and given[s] > 0}
        # F depends on z only through p = softmax(z), so exp(z_i) may be read as p_i (they differ by a factor)
        return Chart(fam, f"{fam.label} by logits", z, lambda t: tuple(sp.exp(zi) / sp.Add(*map(sp.exp, t))
                                                                     for zi in t),
                     fam.identities(*own), {sp.exp(zi): s for zi, s in zip(z, own)},
                     at if len(at) == len(z) else {})
    edges = [f"{s.name} = {given[s]}" for s, p in zip(own, fam.params)
             if p.domain == "unit" and s in given and given[s] in (0, 1)]
    if edges:
        raise FamilyError(f"{inst.label}: {', '.join(edges)} is on the boundary of the parameter space, where the "
                          f"Fisher information is infinite (it has 1/p or 1/(1 - p)); give probabilities in (0, 1)")
    fixed = [s for s, p in zip(own, fam.params) if p.domain == "posint"]
    free = [s for s in own if s not in fixed]
    identities = fam.identities(*own)
    if identities:  # p1 + ... + pK = 1: the coordinates are p1..p(K-1)
        free.pop()
        return Chart(fam, fam.label, tuple(free), lambda t: (*t, 1 - sp.Add(*t)), identities, values=given)

    def params(t):
        return tuple(dict(zip(free, t)).get(s, s) for s in own)
    return Chart(fam, fam.label, tuple(free), params, {}, values=given)


@dataclass(frozen=True)
class Fisher:
    """F(theta) by the KL route (``matrix``) and by the expectation routes, their agreement, and the remainder
    check of the quadratic approximation."""

    chart: Chart
    matrix: sp.Matrix | None
    kl_how: str
    by_score: sp.Matrix | None
    by_curvature: sp.Matrix | None
    agreement: dict
    remainder: dict | None
    note: str = ""

    def shown(self) -> sp.Matrix | None:
        """F for reading: a categorical's 1 - p1 - ... - p(K-1) written as pK; by logits, in p = softmax(z)."""
        c = self.chart
        known = {s: v for s, v in c.values.items() if s not in c.symbols}  # fixed ones given (a binomial's n)
        return None if self.matrix is None else self.matrix.applyfunc(
            lambda e: tidy(e.subs(known).subs(c.readout), c.identities))

    def at_values(self) -> sp.Matrix | None:
        """F at the spec's values, when it gave every one; a series there as its sum, to 20 digits; the limit where
        the closed form reads 0/0 there (kumaraswamy's entries at b = 1 and b = 2)."""
        c = self.chart
        if self.matrix is None or not set(c.symbols) <= set(c.values):
            return None
        return self.matrix.applyfunc(lambda e: substitute(e, c.values)).applyfunc(
            lambda e: sp.Float(number(e, 20), 20) if e.has(sp.Sum) else sp.simplify(e))

    @property
    def ok(self) -> bool:
        """F was found and nothing contradicts it: where KL has a closed form, the quadratic approximation's
        remainder stays bounded; otherwise the two expectation routes agree."""
        if self.matrix is None or FAILED in self.agreement.values():
            return False
        if self.remainder is not None:
            return bool(self.remainder["bounded"])
        return self.agreement.get(ROUTES_AGREE) == PROVEN


def fisher(spec, logits: bool = False, remainder: bool = True, routes: tuple = ("score", "curvature")) -> Fisher:
    """F(theta) for a family spec by the KL route and the expectation routes, and the check of the remainder."""
    c = chart(spec, logits)
    matrix, how = _by_kl(c)
    by_score = _by_expectation(c, "score") if "score" in routes else None
    by_curvature = _by_expectation(c, "curvature") if "curvature" in routes else None
    agreement = {name: NO_KL_ROUTE if matrix is None else NOT_DERIVED if other is None else _same(matrix, other)
                 for name, route, other in ((SCORE_ROUTE, "score", by_score),
                                            (CURVATURE_ROUTE, "curvature", by_curvature)) if route in routes}
    if by_score is not None and by_curvature is not None:
        agreement[ROUTES_AGREE] = _same(by_score, by_curvature)
    from_kl = matrix is not None
    if not from_kl and agreement.get(ROUTES_AGREE) == PROVEN and not _moving_support(c):
        matrix, how = by_curvature, BY_EXPECTATION
    note = "" if matrix is not None else _why_not(c)
    if matrix is not None:
        matrix = matrix.applyfunc(tidy)
    check = remainder_check(c, matrix, {**sample_point(c), **c.values}) if remainder and matrix is not None \
        else None
    return Fisher(c, matrix, how, by_score, by_curvature, agreement, check, note)


def _primed(theta: tuple) -> tuple:
    return tuple(sp.Symbol(f"{t.name}_q", **t.assumptions0) for t in theta)


def _by_kl(c: Chart) -> tuple[sp.Matrix | None, str]:
    """Hessian of KL(theta||theta') in theta' at theta' = theta; the directional h^2 coefficient where KL has
    kinks (Abs, sign) that make the Hessian formula meaningless at theta' = theta."""
    theta, other = c.symbols, _primed(c.symbols)
    kl = c.kl(theta, other)
    if kl is None or kl.has(sp.Piecewise) or kl.is_infinite:
        return None, "no smooth closed-form KL"
    same = dict(zip(other, theta))
    if kl.has(sp.Sum) and kl.has(sp.Abs, sp.sign):
        return None, "KL is a series with kinks"
    if not kl.has(sp.Abs, sp.sign):  # a series (negativebinomial's E[loggamma(X + r)]) differentiated termwise
        h = hessian(kl, list(other)).applyfunc(lambda e: substitute(e, same))
        return h.applyfunc(sp.simplify), "Hessian of KL(theta||theta') in theta' at theta' = theta"
    d = sp.symbols(f"d1:{len(theta) + 1}", real=True)
    step = sp.Symbol("h", positive=True)
    along = kl.subs({o: t + step * di for o, t, di in zip(other, theta, d)})
    # |h g(d)| = h |g(d)| for h > 0; |g(d)| becomes a positive symbol, since sympy's series mistreats Abs
    sizes = {a: sp.Dummy(f"abs{i}", positive=True) for i, a in enumerate(along.atoms(sp.Abs))}
    if any(a.has(step) for a in sizes):
        return None, "KL(theta||theta + h d) has a kink that moves with h"
    series = attempt(ROUTE_SECONDS, "series of KL", lambda: sp.series(sp.expand(along.xreplace(sizes)), step,
                                                                      0, 3).removeO())
    if series is None:
        return None, "series of KL(theta||theta + h d) ran out of time"
    low = [sp.simplify(series.coeff(step, k)) for k in (0, 1)]
    squares = {size**2: a.args[0]**2 for a, size in sizes.items()}
    quad = sp.expand(sp.simplify(series.coeff(step, 2))).subs(squares)
    if any(v != 0 for v in low) or quad.has(*sizes.values()):
        return None, "KL(theta||theta + h d) is not a quadratic form in d to second order"
    return hessian(quad, list(d)).applyfunc(sp.simplify), "h^2 coefficient of KL(theta||theta + h d), KL has kinks"


def _by_expectation(c: Chart, route: str) -> sp.Matrix | None:
    """E[score score^T] (route "score") or -E[d^2 log p] ("curvature") through the expectation engine."""
    fam, theta = c.family, c.symbols
    x = fam.variable()
    params = c.params(theta)
    log_p = fam.log_density(x, *params)
    score = [sp.diff(log_p, t) for t in theta]
    n = len(theta)

    def entry(i, j):
        f = score[i] * score[j] if route == "score" else -sp.diff(log_p, theta[i], theta[j])
        return sp.factor_terms(sp.cancel(expect(fam, params, sp.expand(f), x)[0]))

    def matrix():
        upper = {(i, j): entry(i, j) for i in range(n) for j in range(i, n)}
        return sp.Matrix(n, n, lambda i, j: upper[min(i, j), max(i, j)])
    try:
        out = attempt(ROUTE_SECONDS, f"the {route} route", matrix)
    except (NoClosedForm, NotImplementedError, ValueError, TypeError):
        return None
    return None if out is None or out.has(sp.nan, sp.zoo, sp.Integral) else out


def _same(a: sp.Matrix, b: sp.Matrix) -> str:
    """The weakest entry's verdict (a set's pop would pick one by hash order, and the page would vary by process)."""
    statuses = {vanishes(x - y) for x, y in zip(a, b)}
    return FAILED if FAILED in statuses else PROVEN if statuses == {PROVEN} else NUMERIC


def _moving_support(c: Chart) -> set:
    """The family's parameters its support depends on (uniform's ends): no Fisher information in those."""
    fam = c.family
    return fam.support(*fam.symbols()).free_symbols & set(c.symbols)


def _why_not(c: Chart) -> str:
    support = c.family.support(*c.family.symbols())
    moves = _moving_support(c)
    if moves:
        return (f"not regular: the support {support} moves with {', '.join(map(str, sorted(moves, key=str)))}, so "
                f"KL(theta||theta') is infinite on one side and not quadratic near theta' = theta")
    return "no closed form: KL has none in the family's parameters, and neither expectation route reached one"


def sample_point(c: Chart, seed: int = 1) -> dict:
    """A parameter point in the chart's domains (a categorical's probabilities kept away from 0 and 1)."""
    rng = random.Random(seed)
    fam = c.family
    domains = {p.symbol(): p.domain for p in fam.params}
    point = {t: sample_value(domains.get(t, "real"), rng) for t in c.symbols}
    if c.identities:  # p_i proportional to i, away from 0 and 1
        k = len(c.symbols) + 1
        point = {t: sp.Rational(2 * (i + 1), k * (k + 1)) for i, t in enumerate(c.symbols)}
    fixed = {s: sample_value(domains[s], rng) for s in fam.symbols() if domains[s] == "posint"}
    return {**point, **fixed}


def kl_along(c: Chart, point: dict, d: tuple, dps: int) -> Callable:
    """h -> KL(theta||theta + h d) at the point, to ``dps`` digits: from the closed form, or where KL has none
    (kumaraswamy, logistic, studentt) from its defining integral, by quadrature at each h."""
    h = sp.Symbol("h", positive=True)
    theta = c.symbols
    kl = c.kl(theta, tuple(t + h * di for t, di in zip(theta, d)))
    if kl is not None:
        kl = kl.subs(point)
        return mpmath_lambda((h,), kl) if kl.has(sp.Sum) else sp.lambdify(h, sp.N(kl, dps + 20), "mpmath")
    fam = c.family
    fixed = {s: v for s, v in point.items() if s not in theta}

    def values(at: tuple) -> tuple:
        return tuple(v.subs(fixed) for v in c.params(at))  # sympy numbers and the family's symbols

    here = values(tuple(point[t] for t in theta))

    def by_quadrature(step):
        step = sp.Float(step, dps + 20)  # the binary value itself: the caller's h^2 uses the same number
        return numeric_value("kl", fam, here, fam, values(tuple(point[t] + step * di for t, di in zip(theta, d))),
                             dps + 20)
    return by_quadrature


def remainder_check(c: Chart, matrix: sp.Matrix, point: dict | None = None, direction: tuple | None = None,
                    dps: int = 60) -> dict:
    """(KL(theta||theta + h d) - 1/2 h^2 d^T F d)/h^3 at h = 1e-2 .. 1e-8 from KL (``kl_along``) at ``dps``
    digits: bounded (it tends to the cubic coefficient) when F is right, growing like 1/h when it is not."""
    point = point or sample_point(c)
    theta = c.symbols
    d = direction or tuple(sp.Rational((-1) ** i * (i + 2), 3) for i in range(len(theta)))
    quad = (sp.Matrix(d).T * matrix.subs(point) * sp.Matrix(d))[0] / 2
    f = kl_along(c, point, d, dps)
    ratios = []
    with mpmath.workdps(dps + 20):
        q = number(quad, dps + 20)
        for step in H_STEPS:
            ratios.append((step, (f(step) - q * step**2) / step**3))
    small = max(abs(r) for s, r in ratios if s <= mpmath.mpf("1e-4"))
    bounded = small <= 10 * (abs(ratios[0][1]) + 1)
    return {"point": point, "direction": d, "quadratic": quad, "ratios": ratios, "bounded": bool(bounded)}
