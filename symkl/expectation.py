"""E_P[f(X)]: expand f into terms, take each term's expectation from P's declaration, never per pair.

The rules, in order of preference (each per family): direct summation over a small finite support; the
exponential-family route (moments of sufficient statistics from the log-partition); generating functions
(E[X^k e^(cX)] from the MGF, E[X^a log(X)^m] from the Mellin transform E[X^t]); a declared transformation
X = g(Y) (E[h(g(Y))] under the base family); integration over the standardized density for |m(X) - c| (kinks
split, mirror-image cases folded into Abs); integration over the support within a time budget; for a discrete
family, summation, kept as an exact unevaluated series when it has no closed form (it cancels between the two
sides of a proof). A generating function is used inside its declared domain (``mgf_domain``,
``mellin_domain``); outside it the term's expectation is oo, and where that depends on the parameters a
Piecewise((value, condition), (oo, True)) that ``expect`` gathers into one finiteness condition; a
heavy-tailed family declares the order its moments stop at (``moments_below``), so a term growing faster is oo
or, odd, has no value at all. A term no rule reaches is remembered on disk, so no budget is spent twice on it.
A vector X has its own rules (``vector``): independent coordinates, the joint moment generating function, and
for a symbolic dimension the quadratic-form identity.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache, lru_cache

import sympy as sp
from sympy.integrals.rationaltools import ratint

from .budget import attempt, budgets_run_out
from .family import Family, sample_value
from .serialize import key_text
from .support import bounds, describe
from .vector import by_components, by_joint_mgf, coordinates, expect_matrix

INTEGRATION_SECONDS = 4.0


@dataclass(frozen=True)
class Step:
    """One derivation step: a title, the expression it produced, and how (the rule used)."""

    title: str
    expr: sp.Basic | None = None
    how: str = ""


class NoClosedForm(Exception):
    """No rule found a closed form for an expectation (the message names the term and the family)."""


def split_terms(f: sp.Expr, x: sp.Symbol) -> dict[sp.Expr, sp.Expr]:
    """f as {h(x): coefficient}: f = sum of coefficient * h(x), coefficients free of x."""
    f = sp.expand(sp.expand_log(f), trig=True)  # cos(x - loc) -> cos(x) cos(loc) + sin(x) sin(loc): statistics
    terms: dict[sp.Expr, sp.Expr] = {}
    for term in sp.Add.make_args(f):
        coeff, h = term.as_independent(*coordinates(x), as_Add=False)
        terms[h] = terms.get(h, 0) + coeff
    return {h: c for h, c in terms.items() if c != 0}


def expect(fam: Family, params: tuple, f: sp.Expr, x: sp.Symbol,
           bounded_below: bool = False) -> tuple[sp.Expr, list[Step]]:
    """E[f(X)] for X ~ fam(params): the value and the steps that derived it; NoClosedForm when no rule applies.

    ``bounded_below``: E_P[max(-f, 0)] is known to be finite (f = log(p/q): KL >= 0), so a term that no rule
    finds does not stop the answer oo when divergent terms outgrow it (``_dominated``)."""
    if isinstance(x, sp.MatrixSymbol):
        return expect_matrix(fam, params, f, x)
    support = fam.support(*params)
    if _is_explicit_finite(support):
        points = list(_points(support))
        pmf = [fam.density(k, *params) for k in points]
        value = sp.Add(*[w * f.subs(x, k) for w, k in zip(pmf, points)])
        return value, [Step(f"E[{f}]", value, f"sum over the {len(points)} support points")]
    total, steps, divergent, unresolved, undefined = sp.S.Zero, [], [], [], []
    for h, coeff in split_terms(f, x).items():
        if h == 1:
            total += coeff
            continue
        try:
            value, how = expect_term(fam, params, h, x)
        except NoClosedForm as err:
            if not bounded_below:
                raise
            unresolved.append((coeff * h, err))
            continue
        steps.append(Step(f"E[{h}]", value, how))
        if value is sp.nan:  # no expectation at all (E[X] under a Cauchy): decided by f's growth below
            undefined.append(h)
            continue
        finite, when = finite_branch(value)
        if when is not sp.true:
            divergent.append((coeff, h, value, when))
        if when is not sp.false:
            total += coeff * finite
    if undefined:
        _undefined(fam, params, f, x, divergent, undefined)
        steps.append(Step("undefined terms", None, ", ".join(f"E[{h}]" for h in undefined) + " has no value, but "
                          "f grows like the moment that diverges, so the total is oo"))
        return sp.oo, steps
    if unresolved:
        _dominated(fam, params, x, divergent, unresolved)
        steps.append(Step("unresolved terms", None, "no closed form for " + ", ".join(
            f"E[{u}]" for u, _ in unresolved) + ": the diverging terms outgrow them, so the total is oo"))
        return sp.oo, steps
    if divergent:
        total = _with_divergence(fam, params, x, total, divergent)
    return total, steps


def _dominated(fam, params, x, divergent, unresolved) -> None:
    """Raise the first unresolved term's NoClosedForm unless terms that always diverge outgrow every unresolved
    term u where they blow up (u/g -> 0): then E|f| = oo, and with f bounded below in mean E[f] = oo."""
    always = sp.Add(*[coeff * h for coeff, h, _, when in divergent if when is sp.false])
    lo, hi = bounds(fam.support(*params))

    def outgrown():
        ends = [(end, side) for end, side in ((lo, "+"), (hi, "-")) if sp.limit(always, x, end, side).is_infinite]
        return ends and all(sp.limit(u / always, x, end, side) == 0 for u, _ in unresolved for end, side in ends)
    try:
        ok = always != 0 and attempt(INTEGRATION_SECONDS, "a limit", outgrown)
    except (NotImplementedError, ValueError, TypeError):
        ok = False
    if not ok:
        raise unresolved[0][1]


def _undefined(fam, params, f, x, divergent, undefined) -> None:
    """Raise NoClosedForm unless the total is +oo although some terms have no expectation (E[X] under a Cauchy):
    some term always diverges to +oo, and f grows at least like |x|^k at both ends, k the order whose moment
    diverges (``moments_below``), so f is bounded below and E[f] >= c E|X|^k - C = oo."""
    order = fam.moments_below(*params) if fam.moments_below else sp.nan
    always = [d for d in divergent if d[3] is sp.false]
    shown = ", ".join(f"E[{h}]" for h in undefined)
    if always and order.is_finite and _divergence_sign(fam, params, x, always) > 0:
        t = sp.Dummy("t", positive=True)
        ends = [f.subs(x, t) / t**order, f.subs(x, -t) / t**order]
        try:
            grows = attempt(INTEGRATION_SECONDS, "a limit", lambda: all(
                sp.limit(e, t, sp.oo).is_extended_positive for e in ends))
        except (NotImplementedError, ValueError, TypeError):
            grows = None
        if grows:
            return
    raise NoClosedForm(f"{shown} has no value under {fam.label} (its tails make it oo - oo)")


def finite_branch(value: sp.Expr) -> tuple[sp.Expr | None, sp.Boolean]:
    """(finite value, condition) for an expectation that may diverge: oo gives (None, false), a Piecewise
    whose other branches are all +-oo gives its first branch and condition, anything else (value, true)."""
    if value in (sp.oo, -sp.oo):
        return None, sp.false
    if isinstance(value, sp.Piecewise) and len(value.args) > 1 and \
            all(e in (sp.oo, -sp.oo) for e, _ in value.args[1:]):
        return value.args[0]
    return value, sp.true


def infinities(value: sp.Expr) -> set:
    """The infinite values (oo, -oo) an expectation takes where it diverges."""
    if isinstance(value, sp.Piecewise):
        return {e for e, _ in value.args if e in (sp.oo, -sp.oo)}
    return {value} & {sp.oo, -sp.oo}


def _with_divergence(fam, params, x, total, divergent):
    """E[f] when some terms diverge (all the time, or outside a condition on the parameters): total where every
    term is finite, else +-oo, the sign of the divergent terms' sum where it blows up."""
    condition = simplest(sp.And(*[when for *_, when in divergent]))
    infinite = _divergence_sign(fam, params, x, divergent) * sp.oo
    return infinite if condition is sp.false else sp.Piecewise((total, condition), (infinite, True))


def _divergence_sign(fam, params, x, divergent) -> int:
    """+1 or -1: the sign every divergent term agrees on (coefficient times its infinite value), else the sign
    of the limit of their sum at the support's ends, where the fastest-growing term decides."""
    signs = {sp.sign(coeff * inf) for coeff, _, value, _ in divergent for inf in infinities(value)}
    if signs in ({1}, {-1}):
        return int(signs.pop())
    growing = sp.Add(*[coeff * h for coeff, h, _, _ in divergent])
    lo, hi = bounds(fam.support(*params))
    try:
        ends = attempt(INTEGRATION_SECONDS, "a limit", lambda: {sp.limit(growing, x, lo, "+"),
                                                               sp.limit(growing, x, hi, "-")})
    except (NotImplementedError, ValueError, TypeError):
        ends = None
    signs = {sp.sign(e) for e in ends or () if e in (sp.oo, -sp.oo)}
    if len(signs) != 1:
        shown = ", ".join(f"E[{h}]" for _, h, _, _ in divergent)
        raise NoClosedForm(f"{shown} diverge under {fam.label} with no single sign (oo - oo)")
    return int(signs.pop())


def simplest(condition: sp.Boolean) -> sp.Boolean:
    """A conjunction of conditions with the weaker ones dropped (shape > 2 and shape > 1 is shape > 2)."""
    if condition in (sp.true, sp.false) or not isinstance(condition, sp.And):
        return condition
    found = attempt(INTEGRATION_SECONDS, "a simplification", condition.simplify)
    return condition if found is None else found


def expect_term(fam: Family, params: tuple, h: sp.Expr, x: sp.Symbol) -> tuple[sp.Expr, str]:
    """E[h(X)] for one term, cached per family in the family's own symbols."""
    to_canonical, back = _canonical(fam, params, h)
    dummies = {xi: _stand_in(xi) for xi in coordinates(x)}
    x0 = x.xreplace(dummies) if isinstance(x, sp.MatrixBase) else dummies[x]
    found = _expect_canonical(fam, h.xreplace(to_canonical).xreplace(dummies), sp.ImmutableMatrix(x0) if
                              isinstance(x0, sp.MatrixBase) else x0)
    if found is None:
        shown = h.xreplace({xi: sp.Symbol(xi.name) for xi in coordinates(x)})
        raise NoClosedForm(f"no closed form found for E[{shown}] under {fam.label}")
    value, how = found
    at_params = value.xreplace(back)
    if at_params.has(sp.nan, sp.zoo) and value is not sp.nan:
        raise NoClosedForm(f"E[{h}] under {fam.label}: the closed form in the family's symbols is 0*oo at "
                           f"{params}")
    return at_params, how


def _canonical(fam: Family, params: tuple, h: sp.Expr) -> tuple[dict, dict]:
    """Substitutions into the family's own symbols and back. Parameters given as numbers or expressions (a
    transformation's base, exponential(1) or uniform(0, 1)) are put back at the end, never matched inside h;
    a symbol of h that happens to share a name with the family's own (kumaraswamy's a inside beta(1, b)) is
    shielded meanwhile."""
    own = fam.symbols()
    shield = {s: _stand_in(s) for p, s in zip(params, own) if p != s and s in h.free_symbols}
    forward = {p: s for p, s in zip(params, own) if isinstance(p, sp.Symbol)}
    back = {**{s: p for p, s in zip(params, own)}, **{d: s for s, d in shield.items()}}
    return {**shield, **forward}, back


@cache
def _stand_in(s: sp.Symbol) -> sp.Dummy:
    """The same dummy for the same variable or shielded symbol every time, so that _expect_canonical's cache can
    hit (a fresh dummy per call made every key new: KL and cross-entropy of one pair each tried the same failing
    integral, kumaraswamy's through beta(1, b) until its shield was made stable too)."""
    return sp.Dummy(s.name, **s.assumptions0)


@lru_cache(maxsize=4096)
def _expect_canonical(fam: Family, h: sp.Expr, x: sp.Symbol) -> tuple[sp.Expr, str] | None:
    """The first rule's answer for E[h(X)] in the family's own symbols; None (cached too) when none applies."""
    params = fam.symbols()
    if fam.dim is not None:
        return _first_rule((_by_statistic, by_components, by_joint_mgf), fam, params, h, x)
    # a term no rule reached is remembered on disk: kl and cross_entropy jobs share it
    from . import cache
    named = {d: sp.Symbol(f"_{d.name}", **d.assumptions0) for d in h.atoms(sp.Dummy) | {x}}  # stable across runs
    key = cache.term_key(fam.fingerprint(), key_text(h.xreplace(named)))
    if cache.failed_before(key):
        return None
    rules = (_by_heavy_tail, _by_statistic, _by_mgf, _by_mellin, _by_transformation, _by_mirror, _by_standardized_abs,
             _by_known, _by_tilted_statistic, _by_integral, _by_series)
    timed_out_before = budgets_run_out()
    found = _first_rule(rules, fam, params, h, x)
    if found is None and budgets_run_out() == timed_out_before:  # a rule out of time may succeed on a faster run
        cache.record_failure(key)
    return found


def _first_rule(rules, fam, params, h, x):
    """The first rule's answer, tidied (an exact series, oo and an undefined nan are kept as they are)."""
    for rule in rules:
        found = rule(fam, params, h, x)
        if found is not None:
            value, how = found
            return _tidy_finite(value), how
    return None


def _by_heavy_tail(fam, params, h, x):
    """A term growing like |x|^k under a family whose moments of order k and above diverge (``moments_below``):
    oo for a term bounded below (x**2, |x - c|, exp(c*x)), undefined (nan) for an odd power; where that depends
    on the parameters, the other rules' value under the condition, oo otherwise."""
    if fam.moments_below is None:
        return None
    k, positive = _growth(h, x)
    if k is None:
        return None
    order = fam.moments_below(*params)
    finite = sp.Lt(k, order) if k is not sp.oo else sp.false
    if finite is sp.true:
        return None
    why = f"E|X|^k diverges for k >= {order} under {fam.label}"
    lo, hi = bounds(fam.support(*params))
    if not positive and lo.is_finite and hi is sp.oo and h.is_polynomial(x):  # a half line has one tail (levy's)
        sign = sp.sign(sp.LC(sp.Poly(h, x)))
        if finite is sp.false and sign in (1, -1):
            return sign * sp.oo, f"diverges: {why}, and this term grows like {sign}*x^{k} in the one tail"
    if finite is sp.false:
        return (sp.oo, f"diverges: {why}, and this term grows like |x|^{k}") if positive else \
            (sp.nan, f"undefined: {why}; x^{k} takes both signs, so its mean is oo - oo")
    rules = (_by_statistic, _by_mgf, _by_mellin, _by_transformation, _by_standardized_abs, _by_known,
             _by_standard_moments)
    found = _first_rule(rules, fam, params, h, x)
    if found is None or not positive:
        return found
    return sp.Piecewise((found[0], finite), (sp.oo, True)), f"{found[1]}; finite only when {finite} ({why})"


def _by_standard_moments(fam, params, h, x):
    """E[h(loc + scale*Z)] for a polynomial h, from the moments of Z integrated at the standard parameters
    (a studentt's E[Z**2] with df symbolic takes sympy 0.5 s; with loc and scale symbolic, over 12 s)."""
    if fam.affine is None or not h.is_polynomial(x):
        return None
    loc, scale, standard = fam.affine(*params)
    z = sp.Dummy("z", real=True)
    density = fam.density(z, *standard)
    poly = sp.Poly(sp.expand(h.subs(x, loc + scale * z)), z)
    total = sp.S.Zero
    for (k,), coeff in poly.terms():
        moment = attempt(INTEGRATION_SECONDS, "integration", lambda k=k: sp.integrate(
            z**k * density, (z, -sp.oo, sp.oo), conds="none")) if k else sp.S.One
        if moment is None or moment.has(sp.Integral, sp.nan, sp.zoo, sp.oo):
            return None
        total += coeff * moment
    return sp.expand(total), "standardized: X = loc + scale*Z, the moments of Z integrated"


def _growth(h, x):
    """(k, bounded below) for a term growing like |x|^k at +-oo (k = oo for exp(c*x)); (None, _) for slower."""
    if h.is_polynomial(x):
        k = sp.degree(h, x)
        return (k, k % 2 == 0) if k > 0 else (None, False)
    if isinstance(h, sp.Abs) and h.args[0].is_polynomial(x):
        return sp.degree(h.args[0], x), True
    if isinstance(h, sp.exp) and sp.diff(h.args[0], x).is_zero is False and h.args[0].is_polynomial(x):
        return sp.oo, True
    if isinstance(h, sp.log) and any(isinstance(e, sp.exp) and e.has(x) for e in sp.preorder_traversal(h.args[0])):
        return sp.Integer(1), True  # log(1 + a*exp(c*x)) >= 0 grows like |c x| at one end
    return None, False



def _tidy_finite(value: sp.Expr) -> sp.Expr:
    """_tidy on the finite branch only: an exact series, oo and the divergent branches stay as they are."""
    if value.has(sp.Sum) or value in (sp.oo, -sp.oo, sp.nan):
        return value
    finite, when = finite_branch(value)
    if when is sp.true:
        return _tidy(value)
    return sp.Piecewise((_tidy(finite), when), *value.args[1:])


def _tidy(value: sp.Expr) -> sp.Expr:
    """A readable form of one expectation: gamma ratios cancelled, erfc as erf, rational parts factored."""
    value = sp.expand_log(sp.powsimp(value.rewrite(sp.erf) if value.has(sp.erfc) else value))
    if value.has(sp.gamma):
        value = sp.gammasimp(value)
    if value.is_rational_function():
        return sp.factor(value)
    return sp.factor_terms(value)


def _by_statistic(fam, params, h, x):
    """E[prod T_i^m_i] for sufficient statistics T, from the statistics' MGF exp(A(eta + s) - A(eta)) at s = 0.

    For a single statistic this is E[T_i] = dA/deta_i.
    """
    return _statistic_moment(fam, params, h, x, tilts=False)


def _by_tilted_statistic(fam, params, h, x):
    """E[exp(c.T) prod T_i^m_i]: the same MGF differentiated at s = c, where powers of exp(T_i) in h give the tilt
    c (x^2 = exp(2 log x) under a beta). Taken where A(eta + c) is provably real at every parameter value (a
    beta's shape a + 2), or where the tilted point may leave the natural domain but E[h] converges at every
    parameter value (``_continues``: y log(y)/(1 - y) under a beta, where b - 1 may be negative); not where E[h]
    itself may diverge (a pareto's alpha - k); and after the rules that give plainer forms (a beta's E[x^2] by
    its Mellin transform)."""
    return _statistic_moment(fam, params, h, x, tilts=True)


def _continues(fam, params, h, x, tilted: sp.Expr) -> bool:
    """Whether the tilted MGF's derivative, E[h] where the tilted point lies in the natural domain, is E[h] at every
    parameter value: both are analytic in the parameters wherever E[h] converges, so they agree on all of the
    (connected) parameter domain when E[h] converges on all of it and the tilted point is inside somewhere. E[h]
    converges when h is continuous inside a bounded support and h p(x) is of order above -1 at both ends."""
    support = fam.support(*params)
    if not isinstance(support, sp.Interval) or support.inf.is_infinite or support.sup.is_infinite:
        return False
    inside = sp.Interval.open(support.inf, support.sup)
    if sp.calculus.util.continuous_domain(h, x, inside) != inside:
        return False
    u = sp.Dummy("u", positive=True)
    integrand = h * sp.exp(fam.log_density(x, *params))
    for end in (support.inf + u, support.sup - u):
        order = _order_at_zero(integrand.subs(x, end), u)
        if order is None or sp.Gt(order, -1) is not sp.true:
            return False
    return _real_somewhere(fam, params, tilted)


def _order_at_zero(f: sp.Expr, u: sp.Symbol) -> sp.Expr | None:
    """k with f ~ c u^k log(u)^m as u -> 0+ (log factors do not change whether the order exceeds -1), for products
    of powers and exponentials of sums of logs; None for other shapes."""
    total = sp.S.Zero
    for factor in sp.Mul.make_args(f):
        if not factor.has(u):
            continue
        if isinstance(factor, sp.exp):
            order = _order_of_exp(factor.args[0], u)
        else:
            base, exponent = factor.as_base_exp()
            if exponent.has(u):
                return None
            lead = base.as_leading_term(u).subs(sp.log(u), sp.Dummy(positive=True))
            coeff, power = lead.as_coeff_exponent(u)
            order = None if coeff.has(u) else exponent * power
        if order is None:
            return None
        total += order
    return total


def _order_of_exp(g: sp.Expr, u: sp.Symbol) -> sp.Expr | None:
    """The order of exp(g) for g a sum of terms c log(w(u)) (a density written as exp of its log)."""
    total = sp.S.Zero
    for term in sp.Add.make_args(sp.expand(g)):
        if not term.has(u):
            continue
        logs = [f for f in sp.Mul.make_args(term) if isinstance(f, sp.log)]
        coeff = term / logs[0] if len(logs) == 1 else u
        order = None if coeff.has(u) else _order_at_zero(logs[0].args[0], u)
        if order is None:
            return None
        total += coeff * order
    return total


def _real_somewhere(fam, params, tilted: sp.Expr, tries: int = 20) -> bool:
    """Whether A(eta + c) is real at one of a few sampled parameter points (a witness that the tilted point lies in
    the natural domain on an open set: the natural domains here are open)."""
    rng = random.Random(0)
    own = [(s, p.domain) for s, p in zip(params, fam.params) if isinstance(s, sp.Symbol)]
    for _ in range(tries):
        point = {s: sample_value(domain, rng) * (10 if domain == "positive" else 1) for s, domain in own}
        if tilted.subs(point).is_extended_real:
            return True
    return False


def _statistic_moment(fam, params, h, x, tilts: bool):
    ef = fam.exp_family
    if ef is None:
        return None
    stats = [sp.expand(sp.expand_log(t)) for t in ef.statistics(x, *params)]
    found = _statistic_powers(h, stats, x)
    if found is None or any(found[1]) != tilts:
        return None
    powers, tilt, coeff = found
    eta = fam.natural_symbols()
    at_params = dict(zip(eta, ef.natural(*params)))
    tilted = ef.log_partition(tuple(e + c for e, c in zip(eta, tilt)), *params).subs(at_params)
    continued = tilts and not tilted.is_extended_real
    if continued and not _continues(fam, params, h, x, tilted):
        return None
    s = [sp.Dummy(f"s{i}") for i in range(len(eta))]
    log_mgf = ef.log_partition(tuple(e + si for e, si in zip(eta, s)), *params) - ef.log_partition(eta, *params)
    value = sp.exp(log_mgf)
    for si, m in zip(s, powers):
        value = sp.diff(value, si, m) if m else value
    value = value.subs(dict(zip(s, tilt))).subs(at_params)
    names = [f"T{i + 1}^{m}" if m > 1 else f"T{i + 1}" for i, m in enumerate(powers) if m]
    if tilts:  # exp(loggamma(a + 2) - loggamma(a)) as a(a + 1)
        value = sp.gammasimp(sp.expand_power_exp(value.replace(lambda f: isinstance(f, sp.loggamma),
                                                               lambda f: sp.log(sp.gamma(f.args[0])))))
        t = sp.symbols(f"T1:{len(tilt) + 1}")
        names.append(f"exp({sp.Add(*[c * ti for c, ti in zip(tilt, t)])})")
    how = f"exponential family: E[{' '.join(names)}] from the log-partition A(eta)"
    value *= coeff
    if continued:
        how += (", continued analytically to where the tilted point leaves the natural domain (E[h] converges at "
                "every parameter value)")
    return sp.simplify(value), how


def _statistic_powers(h, stats, x):
    """(m, c, k) with h = k exp(c.T) prod T_i^m_i, k free of x, or None when h is not of that shape: a factor T_i^m
    is a power of a statistic (m a positive integer); a factor b^e with log(b) = T_i and e an integer (x^2 when
    log x is one, 1/(1 - x) when log(1 - x) is) tilts by e, also when b is a product of such factors and
    constants (a^2 x - a^2 is a^2 (x - 1), and 1/(x - 1) is -exp(-log(1 - x)))."""
    powers, tilt, coeff = [0] * len(stats), [0] * len(stats), sp.S.One
    if h in stats:  # a statistic itself (a normal's x**2 is T2, not T1^2)
        return [int(t == h) for t in stats], tilt, coeff
    for factor in sp.Mul.make_args(h):
        base, exponent = factor.as_base_exp()
        if not exponent.is_Integer:
            return None
        if base in stats and exponent > 0:
            powers[stats.index(base)] += int(exponent)
            continue
        found = _tilts(base, int(exponent), stats, x)
        if found is None:
            return None
        constant, tilts = found
        coeff *= constant
        for i, c in tilts:
            tilt[i] += c
    if not any(powers) and not any(tilt):
        return None
    return powers, tilt, coeff


def _tilts(base, exponent: int, stats, x) -> tuple[sp.Expr, list] | None:
    """(k, [(i, c)]) with base**exponent = k prod exp(c T_i), reading base as a product of constants and factors
    w with log(w) or log(-w) a statistic; None otherwise."""
    def index(w):
        log_w = sp.expand(sp.expand_log(sp.log(w), force=True))
        return stats.index(log_w) if log_w in stats else None
    if index(base) is not None:
        return sp.S.One, [(index(base), exponent)]
    if not base.is_polynomial(x):
        return None
    unit, factors = sp.factor_list(base)
    constant, out = unit**exponent, []
    for w, m in factors:
        power = m * exponent
        if not w.has(x):
            constant *= w**power
        elif index(w) is not None:
            out.append((index(w), power))
        elif index(-w) is not None:
            out.append((index(-w), power))
            constant *= sp.S.NegativeOne**power
        else:
            return None
    return (constant, out) if out else None


def _factor_powers(h, x, kind):
    """Split h into (power of x, power of kind(...)): the shape x**a * log(x)**m or x**k * exp(c*x)."""
    a, extra = sp.S.Zero, None
    for factor in sp.Mul.make_args(h):
        base, exponent = factor.as_base_exp()
        if base == x and not exponent.has(x):
            a += exponent
        elif kind == "log" and base == sp.log(x) and exponent.is_Integer and exponent > 0 and extra is None:
            extra = exponent
        elif kind == "exp" and isinstance(factor, sp.exp) and extra is None:
            c = sp.expand(factor.args[0] / x)
            if c.has(x):
                return None
            extra = c
        else:
            return None
    return a, extra


def _by_mgf(fam, params, h, x):
    """E[X^k exp(cX)] = M^(k)(c) from the moment generating function, declared or summed from the moments."""
    shape = _factor_powers(h, x, "exp") if fam.mgf or fam.mellin else None
    if shape is None or not (shape[0].is_Integer and shape[0] >= 0):
        return None
    k, c = int(shape[0]), shape[1] if shape[1] is not None else sp.S.Zero
    if not fam.mgf and c == 0:
        return None  # a power alone: the Mellin transform the summed MGF is made of
    t = sp.Symbol("t")
    mgf, summed = (fam.mgf(t, *params), "") if fam.mgf else (_mgf_from_moments(fam, t), " (summed from E[X^k])")
    if mgf is None:
        return None
    domain = fam.mgf_domain(*params) if fam.mgf_domain else sp.S.Reals
    value = _within(domain, c, lambda: sp.simplify(sp.diff(mgf, t, k).subs(t, c)), (-1)**k)
    return value, f"moment generating function{summed}: M^({k})({c})" + _domain_note(domain, "M")


@cache
def _mgf_from_moments(fam, t):
    """M(t) = sum of t^k E[X^k]/k! over k >= 0, the moments from the Mellin transform, for a family on a bounded
    support (|E[X^k]| <= R^k: the series converges for every t); sympy sums a beta's to Kummer's 1F1(a; a + b; t).
    None where the support is unbounded or sympy finds no closed sum (kumaraswamy's gamma(1 + k/a))."""
    lo, hi = bounds(fam.support(*fam.symbols()))
    if not (lo.is_finite and hi.is_finite):
        return None
    k = sp.Dummy("k", integer=True, nonnegative=True)
    total = attempt(INTEGRATION_SECONDS, "a moment series", lambda: sp.Sum(
        t**k / sp.factorial(k) * fam.mellin(k, *fam.symbols()), (k, 0, sp.oo)).doit())
    return None if total is None or total.has(sp.Sum) else total


def _by_mellin(fam, params, h, x):
    """E[X^a log(X)^m] = d^m/dt^m E[X^t] at t = a, from the Mellin transform."""
    shape = _factor_powers(h, x, "log") if fam.mellin else None
    if shape is None:
        return None
    a, m = shape[0], int(shape[1] or 0)
    t = sp.Symbol("t")
    value = sp.diff(fam.mellin(t, *params), t, m).subs(t, a)
    if value.has(sp.Derivative, sp.Subs):
        return None  # sympy cannot differentiate the transform (a Bessel function's order): leave it to others
    domain = fam.mellin_domain(*params) if fam.mellin_domain else sp.S.Reals
    value = _within(domain, a, lambda: sp.expand(sp.gammasimp(value)), (-1)**m)
    return value, f"Mellin transform: d^{m}/dt^{m} E[X^t] at t = {a}" + _domain_note(domain, "E[X^t]")


def _within(domain: sp.Set, t: sp.Expr, value, low_sign: int) -> sp.Expr:
    """A transform's value at t where t lies in its domain of convergence, oo beyond its upper end (the term is
    positive in the tail that diverges), low_sign*oo below its lower end, a Piecewise where that depends on
    the parameters; ``value()`` is computed only when it may be needed."""
    lo, hi = domain.inf, domain.sup
    above = (sp.Gt(t, lo) if domain.left_open or lo.is_infinite else sp.Ge(t, lo))
    below = (sp.Lt(t, hi) if domain.right_open or hi.is_infinite else sp.Le(t, hi))
    if above is sp.true and below is sp.true:
        return value()
    if sp.false in (above, below):
        return (low_sign if above is sp.false else 1) * sp.oo
    branches = [(value(), sp.And(above, below))]
    if above is not sp.true:
        branches.append((low_sign * sp.oo, sp.Not(above)))
    return sp.Piecewise(*branches, (sp.oo, True) if below is not sp.true else (branches.pop()[0], True))


def _domain_note(domain: sp.Set, name: str) -> str:
    return "" if domain == sp.S.Reals else f", {name} finite for t in {describe(domain)}"


def _by_transformation(fam, params, h, x):
    """E[h(X)] = E[h(g(Y))] for a family declared as X = g(Y) with Y from a base family (lognormal = exp(normal))."""
    if fam.transformation is None:
        return None
    base, base_params, g = fam.transformation(*params)
    if isinstance(h, sp.Abs) and fam.affine is not None and base.affine is None:
        return None  # E|X - c| by the family's own standard density (logistic's, not its uniform base's logit)
    y = base.variable()
    composed = _composed(h, x, g(y), y, base.support(*base_params))
    value, steps = expect(base, base_params, composed, y)  # a sum, too: levy's x = loc + y
    how = steps[0].how if len(steps) == 1 else "; ".join(f"{s.title} by {s.how}" for s in steps)
    return value, f"X = {g(sp.Symbol('Y'))} with Y ~ {base.label}; {how}"


def _by_mirror(fam, params, h, x):
    """E[h(X)] = E[(h(c + g(Y)) + h(c - g(Y)))/2] for a family declared as X = c +- g(Y) with a fair sign (a
    studentt's terms in (x - loc)**2/(df*scale**2) = 1/W - 1 become polynomials in W and log(W) under a beta);
    None where the mirrored term keeps a root of Y (a part odd in X - c that did not cancel)."""
    if fam.mirror is None:
        return None
    base, base_params, centre, g = fam.mirror(*params)
    y = base.variable()
    support = base.support(*base_params)
    both = sp.expand((h.subs(x, centre + g(y)) + h.subs(x, centre - g(y))) / 2)
    mirrored = sp.expand(sp.cancel(sp.together(both)).replace(
        lambda e: isinstance(e, sp.log) and e.has(y),
        lambda e: _log_of_factors(sp.log(sp.cancel(sp.together(e.args[0]))), y, support)))
    if any(e.is_Pow and e.base.has(y) and not e.exp.is_integer for e in sp.preorder_traversal(mirrored)):
        return None
    try:
        value, steps = expect(base, base_params, mirrored, y)
    except NoClosedForm:
        return None
    how = steps[0].how if len(steps) == 1 else "; ".join(f"{s.title} by {s.how}" for s in steps)
    return value, f"X = {centre} +- {g(sp.Symbol('Y'))} with Y ~ {base.label}, each sign with probability 1/2; {how}"


def _composed(h, x, gy, y, support):
    """h(g(y)), where an inverse of g in h cancels: logit(x) = 2 atanh(2x - 1) under a sigmoid is y, once the
    inverse hyperbolic function is written in logs and simplified; and exp(log(...)) = ... (a logistic's
    exp(x/scale) is u/(1 - u) times a constant), its logs split into logs of factors positive on the base's
    support, and the result cancelled, so that a rational function of exp(x) becomes a polynomial in u."""
    composed = h.subs(x, gy)
    if composed.has(sp.atanh, sp.asinh, sp.acosh):
        return sp.simplify(composed.rewrite(sp.log))
    if not composed.has(sp.exp) or not gy.has(sp.log):
        return composed
    opened = composed.replace(lambda e: isinstance(e, sp.exp) and e.has(sp.log),
                              lambda e: sp.expand_power_exp(sp.exp(sp.expand(e.args[0]))))
    if any(e.has(y) for e in opened.atoms(sp.exp)):
        return composed
    split = opened.replace(lambda e: isinstance(e, sp.log) and e.has(y), lambda e: _log_of_factors(e, y, support))
    return sp.cancel(split)


def _log_of_factors(log_, y, support):
    """log(c f1^k1 f2^k2 ...) = log c + k1 log f1 + ... where each factor keeps one sign on the support (a
    negative one enters as -f); unchanged unless every factor is shown to, and c ends positive."""
    try:
        num, den = sp.fraction(sp.together(log_.args[0]))
        (c_num, f_num), (c_den, f_den) = sp.factor_list(num, y), sp.factor_list(den, y)
    except sp.PolynomialError:  # not a rational function of y
        return log_
    coeff, out = c_num / c_den, []
    for f, k in f_num + [(f, -k) for f, k in f_den]:
        if not f.has(y):
            coeff *= f**k
            continue
        sign = _sign_on(f, y, support)
        if sign is None:
            return log_
        coeff *= sign**k
        out.append(k * sp.log(sign * f))
    if not coeff.is_positive:
        return log_
    return sp.log(coeff) + sp.Add(*out)


def _sign_on(f, y, support):
    """1 or -1 when f keeps that sign on the support's interior, else None (within a CPU budget)."""
    def decide():
        for sign in (1, -1):
            if sp.solveset(sign * f <= 0, y, sp.Interval.open(*bounds(support))) is sp.S.EmptySet:
                return sign
        return None
    return attempt(INTEGRATION_SECONDS, "a sign on the support", decide)


def _by_standardized_abs(fam, params, h, x):
    """E|m(X) - c| for m monotone: where c is outside m's range on the support it is +-(E[m(X)] - c); inside,
    X = loc + scale*Z and the kink d = (m^-1(c) - loc)/scale splits the integral over the standard density (a
    family without loc and scale, the beta, is its own standard: loc 0, scale 1)."""
    if fam.discrete or not isinstance(h, sp.Abs):
        return None
    try:
        return _standardized_abs(fam, params, h, x)
    except TypeError:  # a case's edge maps to zoo (gumbel's exp(-z) at z = -oo): no closed form by this rule
        return None


def _standardized_abs(fam, params, h, x):
    shift, m = h.args[0].as_independent(x, as_Add=True)
    lo, hi = bounds(fam.support(*params))
    c, slope = -shift, _on_support(sp.diff(m, x), x, lo, hi)  # log(x)'s slope 1/x is positive on x > 0
    if slope.is_negative:
        m, c = -m, -c
    elif not slope.is_positive:
        return None
    m_lo, m_hi = (sp.limit(m, x, lo, "+") if lo.is_infinite or m.subs(x, lo).has(sp.zoo, sp.nan) else m.subs(x, lo),
                  sp.limit(m, x, hi, "-") if hi.is_infinite or m.subs(x, hi).has(sp.zoo, sp.nan) else m.subs(x, hi))
    kink = [r for r in sp.solve(sp.Eq(m, c), x) if r.is_real is not False]
    if len(kink) != 1:
        return None
    finite_when = _mean_is_finite(fam, params, m, x)
    if finite_when is sp.false:
        return sp.oo, f"E|{h.args[0]}| >= |E[{m}]| - |c| = oo"
    loc, scale, standard = fam.affine(*params) if fam.affine else (0, 1, params)
    z, d, s = sp.Dummy("z", real=True), sp.Dummy("d", real=True), sp.Dummy("s", positive=True)
    inner = m.subs(x, loc + s * z) - m.subs(x, loc + s * d)
    cases = _integrate_abs(fam, tuple(sp.sympify(v) for v in standard), z, d, inner)  # safe: declared numbers
    if cases is None:
        return None
    at_kink = {d: (kink[0] - loc) / scale, s: scale}
    if c.is_Symbol and (m_lo >= 0) is sp.true:  # c > m_lo >= 0 inside: (c**a)**(1/a) is c there
        positive = sp.Dummy("c", positive=True)
        cases = [(value.subs(at_kink).subs(c, positive).subs(positive, c), low, high) for value, low, high in cases]
    image = lambda edge: m.subs(x, loc + scale * edge)  # noqa: E731 - a standard-scale edge in c's terms
    pieces = [(_tidy(value.subs(at_kink)),
               sp.And(c > m_lo, c < m_hi, *[c >= image(low) for _ in [0] if low != cases[0][1]],
                      *[c <= image(high) for _ in [0] if high != cases[-1][2]]))
              for value, low, high in cases]
    if m_lo.is_finite or m_hi.is_finite:
        mean = finite_branch(expect_term(fam, params, m, x)[0])[0]
        pieces = ([(_tidy(mean - c), c <= m_lo)] if m_lo.is_finite else []) + pieces + \
                 ([(_tidy(c - mean), c >= m_hi)] if m_hi.is_finite else [])
    value = pieces[0][0] if len(pieces) == 1 else sp.Piecewise(*pieces[:-1], (pieces[-1][0], True))
    if finite_when is not sp.true:
        value = sp.Piecewise((value, finite_when), (sp.oo, True))
    return value, "standardized: X = loc + scale*Z, the integral of |m(X) - c| split where m(X) = c"


def _on_support(expr, x, lo, hi):
    """expr with x written as a point inside (lo, hi) past a finite end, so that its sign can be read there."""
    inside = sp.Dummy("inside", positive=True)
    return expr.subs(x, lo + inside) if lo.is_finite else expr.subs(x, hi - inside) if hi.is_finite else expr


def _mean_is_finite(fam, params, m, x) -> sp.Boolean:
    """Where E|m(X) - c| is finite: where E[m(X)] is (a heavy tail makes both oo, while the integral of the
    standard density, taken without conditions, would give a finite formula); true when E[m(X)] is not found."""
    try:
        mean = expect(fam, params, m, x)[0]  # m may carry a coefficient (pareto's scale*exp(y)): linearity first
    except NoClosedForm:
        return sp.true
    return sp.false if mean is sp.nan else finite_branch(mean)[1]


def _by_known(fam, params, h, x):
    """An expectation the family supplies (``known_expectation``): written once per family, tested against
    quadrature, shown as supplied rather than derived."""
    value = fam.known_expectation(h, x, *params) if fam.known_expectation else None
    return None if value is None else (value, f"supplied by the {fam.label} declaration (not derived)")


def _integrate_abs(fam, std_params, z, d, inner):
    """E|inner(Z, d)| with the kink at Z = d inside the standard support: [(value in d, low, high)] for each
    stretch between the density's own kinks where d may lie."""
    support = fam.support(*std_params)
    density = fam.density(z, *std_params)
    nested = _nested_kernel(density, z)  # sympy's integrals over the whole stretch can run for hours; below the
    # kink only, they close for an exp inside (logistic's), never for a power of a polynomial (studentt's)
    beta_kernel = _beta_kernel(density, z)  # sympy gives a 2F1 after seconds at best: the incomplete beta below
    lo, hi = support.inf, support.sup
    kinks = sorted({k for a in density.atoms(sp.Abs) for k in sp.solve(a.args[0], z)})
    edges = [lo, *kinks, hi]
    # the kink lies inside the support: past a finite end by a positive distance (no cases on d's sign)
    inside, back = d, {}
    if lo.is_finite or hi.is_finite:
        gap = sp.Dummy("gap", positive=True)
        inside, back = (lo + gap, {gap: d - lo}) if lo.is_finite else (hi - gap, {gap: hi - d})
    integrand = density * sp.Abs(inner.subs(d, inside))
    cases = []
    for low_edge, high_edge in zip(edges, edges[1:]):
        order = edges[:edges.index(high_edge)] + [inside] + edges[edges.index(high_edge):]
        try:
            value = None if nested or beta_kernel else attempt(INTEGRATION_SECONDS, "integration", lambda: sum(
                _integrate_piece(integrand, z, order, i) for i in range(len(order) - 1)))
        except (NotImplementedError, ValueError, TypeError):
            value = None
        if (value is None or value.has(sp.meijerg, sp.Integral)) and len(edges) == 2 and (
                not nested or _nested_exp(density, z)):
            value = _abs_by_lower_part(fam, std_params, z, density, inner.subs(d, inside), lo, inside) or value
        if value is None or value.has(sp.Integral, sp.nan, sp.zoo):
            return None
        cases.append((sp.expand(sp.simplify(value.subs(back)).rewrite(sp.erf)), low_edge, high_edge))
    return _fold_symmetric(cases, d)


def _abs_by_lower_part(fam, std_params, z, density, inner, lo, kink):
    """E|Y| as E[Y] - 2 E[Y; Y < 0], for Y = inner, increasing in z and 0 at the kink: E[Y] by the rules and
    one integral, from the support's end to the kink. Beyond the kink sympy can give a Meijer G (gumbel's
    E|log E + d| under a standard exponential) where below it gives E1 and elementary terms."""
    integrand, var, span = density * inner, z, (lo, kink)
    if lo.is_finite:  # in the distance to the end, a positive symbol: E|sqrt(Y) - c| under a gamma 6 s -> 0.3 s
        var = sp.Dummy("t", positive=True)
        integrand, span = integrand.subs(z, lo + var), (0, kink - lo)
    try:
        mean = finite_branch(expect(fam, std_params, inner, z)[0])[0]
        below = _part_integral(sp.expand(integrand), var, span, _beta_kernel(density, z))
    except (NoClosedForm, NotImplementedError, ValueError, TypeError):
        return None
    if below is None or mean is sp.oo or below.has(sp.Integral, sp.meijerg, sp.nan, sp.zoo):
        return None
    return mean - 2 * below


def _part_integral(integrand, var, span, beta_kernel: bool):
    """The integral over span = (0, end) or (lo, end): under a beta's kernel, incomplete beta functions; with
    exp(-c/t) (an inverse gamma's kernel, where sympy's integral stays unevaluated), in u = 1/t, upper incomplete
    gamma functions; otherwise sympy's integral within the budget."""
    if beta_kernel:
        return _incomplete_beta(integrand, var, *span)
    if any(isinstance(e, sp.exp) and not sp.expand(e.args[0] * var).has(var) for e in integrand.atoms(sp.exp)):
        u = sp.Dummy("u", positive=True)
        lo, hi = span
        return _incomplete_gamma(sp.expand(integrand.subs(var, 1 / u) / u**2), u, 1 / hi, sp.oo if lo == 0 else 1 / lo)
    return attempt(INTEGRATION_SECONDS, "integration", lambda: sp.integrate(integrand, (var, *span), conds="none"))


def _incomplete_gamma(integrand, u, lo, hi):
    """The integral over (lo, hi), lo > 0, of a sum of terms c u^p exp(-r u) with r > 0: each c r^-(p + 1) times
    the upper incomplete gamma function's difference between the ends (by its definition); None where a term has
    another shape."""
    total = sp.S.Zero
    for term in sp.Add.make_args(integrand):
        coeff, rest = term.as_independent(u, as_Add=False)
        shape = _factor_powers(rest, u, "exp")  # u**p * exp(c*u)
        if shape is None or shape[1] is None or not (-shape[1]).is_positive or not lo.is_positive:
            return None
        p, rate = shape[0], -shape[1]
        upper = lambda end: 0 if end is sp.oo else sp.uppergamma(p + 1, rate * end)  # noqa: E731
        total += coeff * (upper(lo) - upper(hi)) / rate**(p + 1)
    return total


def _incomplete_beta(integrand, t, lo, hi):
    """The integral over (lo, hi) inside (0, 1) of a sum of terms c t^p (1 - t)^q, each B(p + 1, q + 1) times the
    regularized incomplete beta function I(p + 1, q + 1) between the ends (by its definition); None where a term
    has another shape or an exponent not shown above -1."""
    total = sp.S.Zero
    for term in sp.Add.make_args(integrand):
        coeff, p, q = sp.S.One, sp.S.Zero, sp.S.Zero
        for factor in sp.Mul.make_args(term):
            base, exponent = factor.as_base_exp()
            if base == t:
                p += exponent
            elif base == 1 - t:
                q += exponent
            elif not factor.has(t):
                coeff *= factor
            else:
                return None
        if not ((p + 1).is_positive and (q + 1).is_positive):
            return None
        total += coeff * sp.gamma(p + 1) * sp.gamma(q + 1) / sp.gamma(p + q + 2) * \
            sp.betainc_regularized(p + 1, q + 1, lo, hi)
    return total


def _integrate_piece(integrand, z, points, i):
    """Integrate over (points[i], points[i+1]) with each |u(z)| (u monotone, zero at one of the points)
    resolved by the side of that point the piece lies on."""
    def resolve(e):
        u = e.args[0]
        kink = next(p for p in points if p.is_finite and sp.simplify(u.subs(z, p)) == 0)
        side = 1 if points.index(kink) <= i else -1
        return u * side * sp.sign(sp.diff(u, z).subs(z, kink))
    resolved = integrand.replace(lambda e: isinstance(e, sp.Abs) and e.has(z), resolve)
    return sp.integrate(sp.expand(resolved), (z, points[i], points[i + 1]), conds="none")


def _fold_symmetric(cases, d):
    """Two mirror-image cases (d < 0 and d > 0, one the other's reflection) become one expression in |d|."""
    if len(cases) == 2 and cases[0][2] == 0 == cases[1][1]:
        (neg, _, _), (pos, _, _) = cases
        if sp.simplify(neg - pos.subs(d, -d)) == 0:
            return [(pos.subs(d, sp.Abs(d)), -sp.oo, sp.oo)]
    return cases


def _by_integral(fam, params, h, x):
    """Integrate density * h over the support (continuous families without kinks), within a time budget; over
    the standard density where that leaves fewer symbols in the integrals (``_standardized``)."""
    if fam.discrete:
        return None
    pieces, x, params, how = _standardized(fam, params, h, x) or ({h: sp.S.One}, x, params, "")
    support = fam.support(*params)
    density = fam.density(x, *params)
    if any(out_of_reach(density, g, x) for g in pieces):
        return None
    try:
        value = attempt(INTEGRATION_SECONDS, "integration", lambda: sum(
            coeff * _definite(sp.expand(density * g), x, support.inf, support.sup) for g, coeff in pieces.items()))
    except (NotImplementedError, ValueError, TypeError):
        return None
    if value is None or value.has(sp.Integral, sp.nan, sp.zoo, sp.I):
        return None  # an expectation of a real function: an imaginary part is sympy's error (gumbel's E[X] + i*pi)
    return sp.expand(value), f"{how}integration over {support}"


def _definite(integrand, x, lo, hi):
    """The integral over (lo, hi); a rational function whose denominator is positive there by its antiderivative
    (ratint) and limits at the ends: sympy's integrate of 2/(pi*(z**2 + 1)**3) over (0, oo) took 0.3 s or more
    than 4 s, depending on the process's hash seed."""
    num, den = sp.fraction(sp.cancel(integrand))
    if integrand.is_rational_function(x) and den.has(x) and _positive_polynomial(den, x, lo):
        antiderivative = ratint(num / den, x)
        return sp.limit(antiderivative, x, hi, "-") - sp.limit(antiderivative, x, lo, "+")
    return sp.integrate(integrand, (x, lo, hi), conds="none")


def _positive_polynomial(p, x, lo) -> bool:
    """p > 0 for every x >= lo, seen from its coefficients: all positive with lo >= 0, or only even powers with
    positive coefficients."""
    terms = sp.Poly(p, x).terms()
    positive = all(c.is_positive for _, c in terms)
    return positive and ((lo >= 0) is sp.true or all(k % 2 == 0 for (k,), _ in terms))


def _standardized(fam, params, h, x):
    """({g(Z): coefficient}, Z, standard parameters, note) when h(loc + scale*Z) is a sum of coefficients free of
    Z times functions g of Z free of loc and scale: E[h(X)] is then integrals with fewer symbols (cauchy's
    E[x**2/((x - loc)**2 + scale**2)**2] runs out of sympy's 4 s with loc and scale; E[1/(Z**2 + 1)**2] takes a
    fraction of that); None otherwise (log(x) under a gamma becomes log(Z/rate), not such a sum)."""
    if fam.affine is None:
        return None
    loc, scale, standard = fam.affine(*params)
    z = sp.Dummy("z", **x.assumptions0)
    allowed = sp.Tuple(*standard).free_symbols | {z}
    pieces: dict = {}
    for term in sp.Add.make_args(sp.expand(h.subs(x, loc + scale * z))):
        parts = sp.separatevars(term, symbols=[z], dict=True)
        if parts is None or not parts[z].free_symbols <= allowed:
            return None
        pieces[parts[z]] = pieces.get(parts[z], 0) + parts["coeff"]
    return pieces, z, tuple(standard), "standardized: X = loc + scale*Z; "


def out_of_reach(density, h, x) -> bool:
    """Whether integrating density * h is not worth its budget: a density that varies with x times a log of a
    sum that is no power of a linear factor (log(1 + a*exp(c*x)), log((x - c)**2 + d**2)) or an inverse
    hyperbolic function of x (a logit); a density with a nested transcendental kernel (exp(-exp(-x)),
    exp(kappa*cos(x)), 1/(1 + exp(-x))**2, (1 + x**2/df)**(-(df + 1)/2)) times any function of x; or an h with
    such a nesting (1/(1 + exp(-x)), logitnormal's logistic, under a normal). sympy found no closed form for any
    of these in the catalog (each ran out of its 4 s), and no rule after integration reaches them, so the answer
    is "no closed form" at once. The exception, which sympy's Meijer G integration does reach: the log of a
    constant plus one power of x, log(c + d*x**k), against powers of x times exp(e*x**m) (exponential, gamma,
    chi2, inversegamma and rayleigh against halfcauchy)."""
    if not density.has(x):
        return False  # a uniform density: sympy integrates logs of polynomials and of exponentials
    if h.has(x) and (_nested_kernel(density, x) or _nested_exp(h, x)):
        return True
    if _beta_kernel(density, x) and h.has(x) and not h.is_polynomial(x):
        return True
    for e in sp.preorder_traversal(h):
        if isinstance(e, (sp.atanh, sp.asinh, sp.acosh)) and e.has(x):
            return True
        if isinstance(e, sp.log) and e.args[0].has(x) and not _linear_powers(e.args[0], x) and not (
                _one_power_plus_constant(e.args[0], x) and _meijer_kernel(density, x)):
            return True
    return False


def _beta_kernel(density, x) -> bool:
    """Powers of two different linear factors with symbolic exponents (a beta's x**(a - 1) (1 - x)**(b - 1)):
    against anything but a polynomial (which the moment rules take first) the integral is a Gauss or Kummer
    hypergeometric function, which sympy reached for none of the catalog's terms (1/(x - c), log(x - c), |x - c|,
    cos(x), exp(-x/s): each ran out of its 4 s or gave up after as long)."""
    bases = {f.base for f in sp.Mul.make_args(density) if f.is_Pow and f.exp.free_symbols and f.base.has(x)
             and f.base.is_polynomial(x) and sp.degree(f.base, x) == 1}
    return len(bases) >= 2


def _nested_kernel(density, x) -> bool:
    """exp of a transcendental function of x, 1/(1 + exp(x)), or a non-linear base in x raised to a non-integer
    power."""
    if _nested_exp(density, x):
        return True
    return any(e.is_Pow and e.base.has(x) and not e.exp.is_integer and not (
        e.base.is_polynomial(x) and sp.degree(e.base, x) == 1) for e in sp.preorder_traversal(density))


def _nested_exp(e, x) -> bool:
    """An exp of a transcendental function of x, or a sum with an exp of x raised to a negative power."""
    for part in sp.preorder_traversal(e):
        if isinstance(part, sp.exp) and part.args[0].has(sp.exp, sp.cos, sp.sin) and part.args[0].has(x):
            return True
        if part.is_Pow and part.base.has(sp.exp) and part.base.has(x) and part.exp.is_negative:
            return True
    return False


def _monomial(e, x) -> bool:
    """e = c*x**k with c and k free of x."""
    dependent = sp.expand_power_base(e, force=True).as_independent(x, as_Add=False)[1]
    return dependent == x or (dependent.is_Pow and dependent.base == x and not dependent.exp.has(x))


def _one_power_plus_constant(g, x) -> bool:
    """g = c + d*x**k: its log against a Meijer G kernel is a Meijer G integral."""
    dependent = [t for t in sp.Add.make_args(sp.expand(g)) if t.has(x)]
    return len(dependent) == 1 and _monomial(dependent[0], x)


def _meijer_kernel(density, x) -> bool:
    """density = (free of x) * x**a * exp(c*x**m): sympy's Meijer G integration handles such kernels on (0, oo)."""
    for factor in sp.Mul.make_args(sp.powsimp(density)):
        if not factor.has(x):
            continue
        if isinstance(factor, sp.exp):
            exponent = [t for t in sp.Add.make_args(sp.expand(factor.args[0])) if t.has(x)]
            if len(exponent) != 1 or not _monomial(exponent[0], x):
                return False
        elif not _monomial(factor, x):
            return False
    return True


def _linear_powers(g, x) -> bool:
    """g is a product of powers of linear functions of x (x, 1 - x, x - c): its log splits into known terms."""
    for factor in sp.Mul.make_args(g):
        base, _ = factor.as_base_exp()
        if base.has(x) and not (base.is_polynomial(x) and sp.degree(base, x) == 1):
            return False
    return True


def _by_series(fam, params, h, x):
    """A discrete expectation: the sum over the support, evaluated if sympy can, else kept as an exact series."""
    if not fam.discrete:
        return None
    support = fam.support(*params)
    k = sp.Symbol("k", integer=True, nonnegative=True)
    series = sp.Sum(fam.density(k, *params) * h.subs(x, k), (k, support.inf, support.sup))
    try:
        value = attempt(INTEGRATION_SECONDS, "summation", series.doit)
        if value is not None and not value.has(sp.Sum, sp.nan):
            return sp.simplify(value), f"summation over {support}"
    except (NotImplementedError, ValueError, TypeError):
        pass
    return series, "no closed form: kept as an exact series"


def _is_explicit_finite(support) -> bool:
    if isinstance(support, sp.FiniteSet):
        return True
    return isinstance(support, sp.Range) and support.size.is_Integer and support.size <= 256


def _points(support):
    return support if isinstance(support, sp.FiniteSet) else list(support)
