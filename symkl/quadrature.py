"""Numeric values of the defining integrals and sums with mpmath, independent of the symbolic derivation.

Integrals run over the support split at the kinks of |x - c| and the support ends; near a finite end the
substitution x = end +- u**m, m fitted to the density's power law there, tames integrable singularities such as
x**(a - 1) under a beta or gamma density.
Sums run term by term until a geometric bound on the tail is below the target precision.
"""
from __future__ import annotations

import math
from functools import lru_cache, partial

import mpmath
import sympy as sp

from .ball import EXP_LIMIT, weighted
from .budget import attempt
from .support import bounds

MAX_TERMS = 200_000


def numeric_value(quantity: str, fp, p_values: tuple, fq, q_values: tuple, dps: int = 50):
    """The quantity's defining integral at the given values (tanh-sinh), the fallback without a closed form;
    +-oo where it diverges in a tail (a number there would be whatever the last quadrature nodes reached)."""
    if fp.dim is not None:
        from .cubature import integrate_vector
        return integrate_vector(quantity, fp, p_values, fq, q_values, dps, methods=("tanh-sinh",))
    if not fp.discrete and (sign := tail_divergence(quantity, fp, p_values, fq, q_values)):
        return sign * mpmath.inf
    return _integral(quantity, fp, p_values, fq, q_values, dps, "tanh-sinh")


DECADES = 12
STILL_GROWING = 0.9
END_POINTS = tuple(mpmath.mpf(10) ** -k for k in (10000, 20000, 40000))  # far in: log factors settle there


def tail_divergence(quantity: str, fp, p_values: tuple, fq, q_values: tuple) -> int:
    """+1 or -1 where the defining integral diverges to +oo or -oo at an end of P's support, else 0.

    Towards an infinite end: its pieces over successive decades (x = c + s*10^k, c and s P's location and scale)
    stop shrinking, each at least STILL_GROWING times the one before over the last four. A convergent tail
    shrinks by 10^-a a decade (a tail like x^-(1 + a)); KL(cauchy||normal) grows tenfold. At a finite end: the
    integrand behaves like y^r (times powers of log y) in the distance y to the end, with r <= -1
    (KL(chi||levy): levy's log q is -c/y). Decades cannot tell there: chi(0.1)'s integrand y^-0.95 log(y)
    shrinks by under 10% a decade, and converges."""
    x, y = sp.Symbol("x", real=True), sp.Symbol("y", positive=True)
    log_p, integrand = _integrands(quantity, fp, p_values, fq, q_values, x)
    log_p, integrand, fam, values = _in_base_variable(fp, p_values, x, log_p, integrand)
    with mpmath.workdps(30):
        g = _weighted(x, log_p, integrand, 30, overflow=True)
        centre, scale = _centre(fam, values)
        for end, side in zip(bounds(fam.support(*values)), (-1, 1)):
            if end.is_finite:
                shift = {x: end - side * y}
                near = _weighted(y, log_p.subs(shift), integrand.subs(shift), 30)
                values_near = [near(t) for t in END_POINTS]
                if 0 not in values_near and _power_at_end(lambda t: mpmath.log(abs(near(t)))) <= -1 + 1e-6:
                    return int(mpmath.sign(values_near[-1]))
                continue
            stops = _decades(_mpmath_function(x, log_p, 30), centre, side * scale)
            if len(stops) < 5:  # four pieces to compare
                continue
            pieces = [mpmath.quad(g, sorted([a, b])) for a, b in zip(stops, stops[1:])][-4:]
            for sign in (1, -1):
                if all(sign * v > 0 for v in pieces) and \
                        all(abs(b) >= STILL_GROWING * abs(a) for a, b in zip(pieces, pieces[1:])) and \
                        not _dies_far_out(x, log_p, integrand, centre, side * scale):
                    return sign
    return 0


def _decades(log_weight, centre, step) -> list:
    """The stops centre + step*10^k, k < DECADES, as far as P's log-density stays within EXP_LIMIT/10: beyond,
    a density or an exp in the integrand is cut to 0 or oo, and the pieces would show that cut, not the tail
    (laplace(3, 10) against gumbel(5, 10): a level integrand, read as shrinking to 0 past 10^6)."""
    stops = []
    for k in range(DECADES):
        t = centre + step * mpmath.mpf(10) ** k
        try:
            inside = abs(log_weight(t)) < EXP_LIMIT / 10
        except (ValueError, ZeroDivisionError, TypeError):
            inside = False
        if not inside:
            break
        stops.append(t)
    return stops


FAR_OUT = (100, 10000)  # the decades out at which _dies_far_out weighs the integrand
FAR_DROP = 10


def _dies_far_out(x, log_p, integrand, centre, step) -> bool:
    """Whether t*p(t)*|integrand(t)| falls by more than a factor e^FAR_DROP from 10^100 to 10^10000 steps out
    (computed as its log, where p underflows): a tail that shrinks too slowly for the decades to tell converges
    all the same: an x^(-1.01); weibull(1/100)'s exp(-x^(1/100)), which against a weibull(10)'s x^10 turns over
    only past 10^300. cauchy's 1/x against a laplace stays level; 1/(x log x) falls too little to pass."""
    log_weight, f = _mpmath_function(x, log_p, 30), _mpmath_function(x, integrand, 30)
    far = [centre + step * mpmath.mpf(10) ** k for k in FAR_OUT]
    try:
        sizes = [mpmath.re(log_weight(t) + mpmath.log(abs(f(t))) + mpmath.log(abs(t - centre))) for t in far]
    except (ValueError, ZeroDivisionError):
        return False
    return mpmath.isfinite(sizes[0]) and (sizes[1] == -mpmath.inf or sizes[1] < sizes[0] - FAR_DROP)


def _slope(log_f, near, nearer):
    """s where f(y) ~ y^s as y -> 0, from log f at two points close to 0."""
    return (log_f(near) - log_f(nearer)) / mpmath.log(near / nearer)


def _power_at_end(log_f):
    """s where f(y) ~ y^s log(y)^j as y -> 0: the slopes over END_POINTS (each span twice the last in log y)
    extrapolated, since a log's share of a slope halves from one to the next. Read plainly over 1e-50..1e-100,
    weibull(1/100)'s y^-0.99 log(y)^2 has slope -1.002 and would pass for divergent; its cross-entropy against a
    lognormal, y^-0.99 (log(y)^2/200 + log(y) + ...), changes sign there. A log polynomial's lower terms leave
    an error of ~1e-7 this far in. At s = -1 exactly the integral is taken to diverge (1/y, log(y)/y)."""
    first, second = (_slope(log_f, a, b) for a, b in zip(END_POINTS, END_POINTS[1:]))
    return 2 * second - first


def _centre(fam, values) -> tuple:
    """P's location and scale as mpf: declared (affine), else 0 and 1 (from a finite end, 1 away from it)."""
    if fam.affine is not None:
        loc, scale, _ = fam.affine(*values)
        return _mp(loc), abs(_mp(scale))
    lo, hi = bounds(fam.support(*values))
    return (_mp(lo) if lo.is_finite else _mp(hi) if hi.is_finite else mpmath.mpf(0)), mpmath.mpf(1)


def integrate_definition(quantity: str, fp, p_values: tuple, fq, q_values: tuple, dps: int = 50):
    """_integrate_definition, remembered under one key however it is called (lru_cache keys a keyword argument
    apart from the same positional one: cross-entropy checks integrated the KL a second time)."""
    return _integrate_definition(quantity, fp, tuple(p_values), fq, tuple(q_values), dps)


@lru_cache(maxsize=1024)
def _integrate_definition(quantity: str, fp, p_values: tuple, fq, q_values: tuple, dps: int):
    """An independent value of the quantity: mpmath.inf when P has measured mass where Q has none; None when
    the two quadrature methods (tanh-sinh, Gauss-Legendre) disagree or a sum does not reach its tail bound.

    A continuous cross-entropy is the integral of p log(p/q) plus that of -p log p, each by both methods: the
    same definition by linearity, and the two integrals the KL and entropy checks at these values take anyway
    (remembered per process, so a check of all three quantities integrates twice, not three times)."""
    if quantity == "cross_entropy" and fp.dim is None and not fp.discrete:
        parts = [integrate_definition("kl", fp, p_values, fq, q_values, dps),
                 integrate_definition("entropy", fp, p_values, None, (), dps)]
        if any(v is None for v in parts):
            return None
        with mpmath.workdps(dps + 20):
            return parts[0] if mpmath.isinf(parts[0]) else parts[0] + parts[1]
    if fp.dim is not None:
        from .cubature import integrate_vector
        return integrate_vector(quantity, fp, p_values, fq, q_values, dps)
    if fp.discrete:
        return _sum(quantity, fp, p_values, fq, q_values, dps)
    if fq is not None and quantity != "entropy" and positive_outside(fp, p_values, fq, q_values, dps):
        return mpmath.inf
    first = _integral(quantity, fp, p_values, fq, q_values, dps, "gauss-legendre")
    second = _integral(quantity, fp, p_values, fq, q_values, dps, "tanh-sinh", target=dps)
    with mpmath.workdps(dps + 20):
        agree = abs(first - second) <= mpmath.mpf(10) ** (5 - dps) * max(1, abs(first))
    return first if agree else None


def _integrands(quantity, fp, p_values, fq, q_values, x):
    log_p = fp.log_density_at(x, *p_values)
    log_q = fq.log_density_at(x, *q_values) if fq is not None else log_p
    return log_p, {"kl": log_p - log_q, "cross_entropy": -log_q, "entropy": -log_p}[quantity]


def expectation_value(fp, p_values: tuple, f: sp.Expr, x: sp.Symbol, dps: int = 50, method: str = "tanh-sinh"):
    """E_P[f(X)] for any f, by the same split quadrature (or tail-bounded summation) as the definitions: the
    numeric side of the identities in ``symkl.ml``, independent of the symbolic expectation engine."""
    if fp.discrete:
        k = sp.Symbol("k", integer=True, nonnegative=True)
        return _sum_of(fp, p_values, f.subs(x, k), k, dps)
    t = sp.Symbol("x", real=True)
    return _integral_of(fp, p_values, t, fp.log_density_at(t, *p_values), f.subs(x, t), dps, method)


def _integral(quantity, fp, p_values, fq, q_values, dps, method, target=None):
    x = sp.Symbol("x", real=True)
    log_p, integrand = _integrands(quantity, fp, p_values, fq, q_values, x)
    q_in_x = fq is not None and fq.affine is not None and fp.transformation is None and quantity != "entropy"
    marks = {_mp(c) for c in _landmarks(fq, q_values, STEPS[method])} if q_in_x else set()
    return _integral_of(fp, p_values, x, log_p, integrand, dps, method, target, marks)


def _integral_of(fp, p_values, x, log_p, integrand, dps, method, target=None, q_marks=frozenset()):
    """The integral of p(x) * integrand(x) over P's support, split at kinks and landmarks, P's and ``q_marks``
    (Q's, in x: log q's bulk, which may be far narrower than P's, studentt(10, 97/100, 1/100) under a
    cauchy(491/100, 10)); see _quad for ``target``."""
    y = sp.Symbol("y", positive=True)
    log_p, integrand, fp, p_values = _in_base_variable(fp, p_values, x, log_p, integrand)
    with mpmath.workdps(dps + 20):
        g = _weighted(x, log_p, integrand, dps + 20)
        support = bounds(fp.support(*p_values))
        lo, hi = (_mp(v) for v in support)
        fine = {_mp(c) for c in _landmarks(fp, p_values)}
        landmarks = fine if STEPS[method] == STEPS["gauss-legendre"] else \
            {_mp(c) for c in _landmarks(fp, p_values, STEPS[method])}
        even = {lo + (hi - lo) * k / 64 for k in range(1, 64)} if mpmath.isfinite(lo) and mpmath.isfinite(hi) else set()
        # where a kink no formula finds is looked for: the finer landmarks, the same grid for both methods
        grid = _toward_ends(lo, hi, sorted(c for c in fine | even if lo < c < hi))
        cuts = sorted(({_mp(c) for c in _kinks(x, integrand, log_p, grid=grid)} | landmarks | q_marks) - {lo, hi})
        points = _past_landmarks(g, _graded([lo] + [c for c in cuts if lo < c < hi] + [hi]))
        near = {}
        for end, side in zip(support, (1, -1)):
            if end.is_finite:  # the integrand in the distance y to the end: 1 - (1 - y) is y, exactly
                shift = {x: end + side * y}
                log_p_near, integrand_near = log_p.subs(shift), integrand.subs(shift)
                h = _weighted(y, log_p_near, integrand_near, dps + 20)
                near[_mp(end)] = (h, _end_power(_mpmath_function(y, log_p_near, dps + 20),
                                                lambda t, h=h: mpmath.log(abs(h(t))),
                                                _has_log_at_end(integrand_near, y)))
        return mpmath.fsum(_piece(g, a, b, method, near.get(a), near.get(b), target=target)
                           for a, b in zip(points, points[1:]))


FARTHEST = 48  # doublings past the last landmark
GRADING = 16


def _graded(points: list) -> list:
    """points, with cuts doubling the distance to a finite end where the first cut is GRADING times nearer to
    it than the second (on each side): a piece is then never much longer than its distance to the end, where
    the integrand may be singular (a log). A kink at y = 0.00136 in logistic(-7/10, 1/4)'s base variable on
    (0, 1), laplace(-47/20, 499/100)'s |x - loc|, left one piece (0.00136, 1) next to log(y), and Gauss-Legendre
    1.7e-45 off, its error estimate fooled."""
    if len(points) < 3:
        return points
    added = []
    for end, first, second in (points[:3], points[::-1][:3]):
        step = first - end
        if mpmath.isfinite(end) and mpmath.isfinite(second) and abs(second - end) > GRADING * abs(step):
            added += [end + step * 2 ** k for k in range(1, FARTHEST) if abs(step) * 2 ** k < abs(second - end)]
    return sorted(set(points) | set(added))


def _past_landmarks(g, points: list) -> list:
    """points, with cuts doubling the last step outwards on an infinite side while the integrand there, times
    the distance, is above the working tolerance: a tail slower than P's bulk (pareto(437/100, 101/50)'s
    x^2/(2 sigma^2) under its exponential base variable falls as exp(-0.0099 y), most of its mass past the last
    landmark, where one infinite piece left Gauss-Legendre 1e-13 off). Not past an algebraic tail (cauchy's
    x^-2 log x): the tail's substitution (see _piece) takes those whole, and their doublings would not end."""
    tiny = mpmath.mpf(10) ** -mpmath.mp.dps
    for side in (1, -1):
        ordered = points if side == 1 else points[::-1]
        if not mpmath.isinf(ordered[-1]) or len(ordered) < 3 or mpmath.isinf(ordered[-3]):
            continue
        last, step, extra = ordered[-2], ordered[-2] - ordered[-3], []
        slope = _end_slope(lambda u: mpmath.log(abs(g(last + side * (1 / u - 1)) / u**2)))
        if mpmath.isfinite(slope) and slope < SMOOTH_ORDER:  # a power of u = 1/x: algebraic
            continue
        for k in range(1, FARTHEST + 1):
            c = last + step * 2**k
            if abs(g(c) * (c - last)) <= tiny:
                break
            extra.append(c)
        ordered = ordered[:-1] + extra + ordered[-1:]
        points = ordered if side == 1 else ordered[::-1]
    return points


def _in_base_variable(fp, p_values, x, log_p, integrand):
    """For X = g(Y) (a declared transformation), the integral over Y's support with the Jacobian g'(Y): a
    lognormal's mass spread over many decades of x is a normal's bulk in y, where quadrature converges."""
    if fp.transformation is None:
        return log_p, integrand, fp, p_values
    base, base_values, g = fp.transformation(*p_values)
    to_x = {x: g(x)}
    jacobian = sp.log(sp.Abs(sp.diff(g(x), x)))  # |g'|: g may decrease (gumbel = loc - scale*log(E))
    return (sp.expand_log(log_p.subs(to_x) + jacobian, force=True), sp.expand_log(integrand.subs(to_x), force=True),
            base, base_values)


def _weighted(x, log_p, integrand, dps, overflow=False):
    """t -> p(t) * integrand(t) as an mpmath function, at ``dps`` digits whatever mpmath's precision (the nodes
    may run at fewer; the integrand's own cancellations, log(x) - log(1 - x) next to 1, need the guard digits).
    In arb balls where it can be (see symkl.ball); else, and with ``overflow``, in mpmath (see _product)."""
    fast = None if overflow else weighted(x, sp.exp(sp.N(log_p, dps)), sp.N(integrand, dps), dps)
    if fast is not None:
        return fast
    weight, f = _density_function(x, log_p, dps), _mpmath_function(x, integrand, dps)

    def g(t):
        with mpmath.workdps(dps):
            return _product(weight, f, t, overflow)
    return g


def _mpmath_function(x, expr, dps):
    """expr as an mpmath function of x, its parameter-only parts (loggamma(5/2), log(2 pi)) evaluated once."""
    return sp.lambdify(x, sp.N(expr, dps), [{"exp": _bounded_exp}, "mpmath"])


def _bounded_exp(a):
    """exp(a), but inf beyond a = 1e6: a gumbel's exp(-(x - loc)/scale) at the node x = -1e100 of an infinite
    range would otherwise ask gmpy2 for a number too large to hold, which aborts the process (no exception).
    Where it matters the density there is exp(-inf) = 0, and _product drops the node."""
    real = mpmath.mpmathify(a).real
    if real > EXP_LIMIT:
        return mpmath.inf
    if real < -EXP_LIMIT:   # exp(-1e300) at a far node costs mpmath seconds, for a value no sum can see
        return mpmath.mpf(0)
    return mpmath.exp(a)


def _density_function(x, log_p, dps):
    """exp(log_p) as an mpmath function, its constants evaluated first: sympy's evalf leaves exp(-x -
    loggamma(437/100)) as it is, which costs a 70-digit loggamma at every node."""
    return sp.lambdify(x, sp.exp(sp.N(log_p, dps)), [{"exp": _bounded_exp}, "mpmath"])


def mass_outside(fp, p_values, fq, q_values, dps):
    """P's probability on the parts of its support that lie outside Q's support."""
    x = sp.Symbol("x", real=True)
    gaps = _gaps(fp, p_values, fq, q_values)
    with mpmath.workdps(dps):
        weight = _density_function(x, fp.log_density_at(x, *p_values), dps)
        return mpmath.fsum(_piece(lambda t: _product(weight, lambda _: 1, t), _mp(a), _mp(b), "tanh-sinh")
                           for a, b in gaps if a < b)


def positive_outside(fp, p_values, fq, q_values, dps) -> bool:
    """Whether P puts mass where Q has none: its log-density is finite at a point inside a gap of Q's support
    (a continuous density is then positive around it), or, failing that, quadrature measures mass there. The
    point decides cases no quadrature can: gumbel(37/20, 1/100) has mass exp(-e^185) below 0."""
    x = sp.Symbol("x", real=True)
    for a, b in _gaps(fp, p_values, fq, q_values):
        inside = (a + b) / 2 if a.is_finite and b.is_finite else b - 1 if b.is_finite else a + 1
        value = sp.N(fp.log_density_at(x, *p_values).subs(x, inside), 15) if a < b else sp.nan
        if value.is_real and value.is_finite:
            return True
    return mass_outside(fp, p_values, fq, q_values, dps) > 0


def _gaps(fp, p_values, fq, q_values) -> list:
    """The stretches of P's support outside Q's support, as (lo, hi)."""
    (lo_p, hi_p), (lo_q, hi_q) = bounds(fp.support(*p_values)), bounds(fq.support(*q_values))
    gaps = [(lo_p, min(lo_q, hi_p))] if lo_p < lo_q else []
    return gaps + ([(max(hi_q, lo_p), hi_p)] if hi_p > hi_q else [])


def _sum(quantity, fp, p_values, fq, q_values, dps):
    """Term by term from the lowest support point; stop once the terms shrink geometrically below the target."""
    k = sp.Symbol("k", integer=True, nonnegative=True)
    _, integrand = _integrands(quantity, fp, p_values, fq, q_values, k)
    q_support = fq.support(*q_values) if fq is not None and quantity != "entropy" else None
    return _sum_of(fp, p_values, integrand, k, dps, q_support)


def _sum_of(fp, p_values, integrand, k, dps, q_support=None):
    """The sum of p(n) * integrand(n) over P's support (oo at a point outside ``q_support``, when given). The
    terms are mpmath functions made once (a mean of 1e3 takes 1e5 terms: sympy per term took minutes)."""
    from .divergence import density_at
    lo, hi = bounds(fp.support(*p_values))
    q_lo, q_hi = bounds(q_support) if q_support is not None else (-sp.oo, sp.oo)
    q_points = set(q_support) if isinstance(q_support, sp.FiniteSet) else None  # a support with gaps
    weight_expr = density_at(fp, k, p_values)
    with mpmath.workdps(dps + 20):
        if integrand.has(sp.zoo, sp.nan, sp.oo, -sp.oo) or weight_expr.has(sp.zoo, sp.nan):
            weight = lambda n: _mp(weight_expr.subs(k, n))  # noqa: E731 - a probability at 0 or 1
            value = lambda n: _mp(integrand.subs(k, n))  # noqa: E731
        else:
            weight, value = _mpmath_function(k, weight_expr, dps + 20), _mpmath_function(k, integrand, dps + 20)
        q_lo, q_hi = _mp(q_lo), _mp(q_hi)
        total, ratios, previous = mpmath.mpf(0), [], None
        for n in range(int(lo), int(lo) + MAX_TERMS):
            if hi.is_finite and n > hi:
                return total
            w = weight(n)
            if w == 0:
                continue
            if not q_lo <= n <= q_hi or q_points is not None and n not in q_points:
                return mpmath.inf
            v = value(n)
            total += w * v
            size = w * max(1, abs(v))  # bounds the term, and shrinks with the weights where log(p/q) is 0
            if previous:
                ratios = (ratios + [size / previous])[-10:]
            previous = size
            r = max(ratios) if len(ratios) == 10 else 1
            if r < 1 and size * r / (1 - r) < mpmath.mpf(10) ** (-dps - 5) * max(1, abs(total)):
                return total
    return None


def _mp(v):
    """A real sympy number (exact or not) as an mpf at the working precision."""
    v = sp.N(v, mpmath.mp.dps)
    if v.is_infinite:
        return mpmath.inf if v > 0 else -mpmath.inf
    return mpmath.mpf(0) if v.is_zero else mpmath.mpf(sp.Float(v, mpmath.mp.dps)._mpf_)


def _product(weight, f, t, overflow=False):
    """p(t) * f(t), with 0 where t has rounded onto or past a support end (the node's weight there is negligible;
    past levy's end, log(t - loc) turns complex); a real value that mpmath typed complex (levy's density, with
    imaginary part 0) as real. An infinite product (f's exp beyond EXP_LIMIT) is 0 too, a far node's, unless
    ``overflow``: tail_divergence's pieces keep it (a studentt's polynomial tail against a gumbel's exp(-x))."""
    try:
        w = weight(t)
        v = w * f(t) if w != 0 else w
    except (ZeroDivisionError, ValueError):
        return mpmath.mpf(0)
    if isinstance(v, mpmath.mpc):
        v = v.real if v.imag == 0 else mpmath.mpf(0)
    return v if mpmath.isfinite(v) or overflow and mpmath.isinf(v) else mpmath.mpf(0)


# Multiples of the scale, from the location, where each method cuts P's bulk. Tanh-sinh, whose nodes crowd
# towards each piece's ends, converges on pieces up to 8 times as long inside 32 scales with the same number of
# nodes; farther out it keeps every cut (with only 0, 4, 32 and 256 it stopped 3.5e-21 off lognormal(151/50, 10)
# against weibull(10, 10), whose integrand peaks a thousand scales out). Different cuts make the two methods
# more independent too.
STEPS = {"gauss-legendre": (-256, -128, -64, -32, -16, -8, -4, -2, -1, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256),
         "tanh-sinh": (-256, -128, -64, -32, -4, 0, 4, 32, 64, 128, 256)}


def _landmarks(fam, values, steps=STEPS["gauss-legendre"]) -> set:
    """Points spread over P's bulk (location + multiples of the scale, mapped through a transformation):
    quadrature split there converges fast wherever the mass sits."""
    if fam.affine is not None:
        loc, scale, _ = fam.affine(*values)
        return {loc + k * scale for k in steps}
    if fam.transformation is not None:
        base, base_values, g = fam.transformation(*values)
        return {g(point) for point in _landmarks(base, base_values, steps)}
    lo, hi = bounds(fam.support(*values))
    return _plain_landmarks(lo, hi) | (_around_mode(fam, values, lo) if lo.is_finite and hi.is_infinite else set())


def _around_mode(fam, values, lo) -> set:
    """Steps of 2 around the density's highest point on a half-line (found on a grid of powers of 2 from
    the end): inversegaussian(11/5, 1/4) peaks at 0.08, inside the first unit step, where Gauss-Legendre's
    entropy was 3.7e-33 off and the check inconclusive."""
    y = sp.Symbol("y", positive=True)
    log_p = _mpmath_function(y, fam.log_density_at(lo + y, *values), 30)  # its exp bounded, as everywhere here
    with mpmath.workdps(30):
        def height(t):
            try:
                return mpmath.re(log_p(t))
            except (ValueError, ZeroDivisionError, TypeError):
                return -mpmath.inf
        top = max((mpmath.mpf(2) ** k for k in range(-60, 61)), key=height)
        return {lo + sp.Float(top * 2 ** j, 30) for j in range(-6, 7)}


def _plain_landmarks(lo, hi) -> set:
    """For a family with no declared location and scale (a custom density) on an infinite support: unit steps,
    then doubling steps, from its finite end (from 0 both ways on the real line), so that no piece of the
    infinite tail holds many wiggles or zeros of the density."""
    if lo.is_finite and hi.is_finite:
        return set()
    steps = [sp.Integer(k) for k in range(1, 16)] + [sp.Integer(2) ** k for k in range(4, 21)]
    if lo.is_finite:
        return {lo + step for step in steps}
    if hi.is_finite:
        return {hi - step for step in steps}
    return {sign * step for step in steps for sign in (1, -1)} | {sp.S.Zero}


KINK_SECONDS = 2.0


@lru_cache(maxsize=256)
def _kinks(x, *exprs, grid=()) -> frozenset:
    """Points where |f(x)| makes the integrand non-smooth: for a polynomial f its real roots by sympy, for any
    other f (or a polynomial sympy does not solve within KINK_SECONDS) the roots bracketed between its sign
    changes over ``grid``. Not sympy's solve there: for a log-odds f, 27/50*log(x/(1 - x)) + c, it returns no
    root at all, or expands f into a polynomial of degree 50 and factors it for hours, and a budget would make
    the cuts (and the digits a check reports) depend on the machine's speed. Remembered: both quadrature methods
    cut at the same kinks."""
    out = set()
    for e in exprs:
        for a in e.atoms(sp.Abs):
            f = a.args[0]
            roots = attempt(KINK_SECONDS, "the kinks of the integrand", partial(sp.solve, f, x)) \
                if f.is_polynomial(x) else None
            out |= {r for r in roots if r.is_real} if roots is not None else _sign_changes(x, f, grid)
    return frozenset(out)


def _toward_ends(lo, hi, grid: list) -> tuple:
    """grid, with points halving the distance from its first (last) point to a finite end FARTHEST times: a
    kink between the end and the grid (gumbel||laplace's 10*log(y) + 189/100 at y = 0.83, in the exponential
    variable whose landmarks start at 1) is bracketed too."""
    if not grid:
        return ()
    first, last = grid[0], grid[-1]
    near_lo = [lo + (first - lo) / 2 ** k for k in range(1, FARTHEST + 1)] if mpmath.isfinite(lo) else []
    near_hi = [hi - (hi - last) / 2 ** k for k in range(1, FARTHEST + 1)] if mpmath.isfinite(hi) else []
    return tuple(near_lo[::-1] + list(grid) + near_hi)


def _sign_changes(x, f, grid) -> set:
    """The roots of f bracketed by consecutive points of grid where f changes sign."""
    fn = sp.lambdify(x, f, "mpmath")
    values = [(t, fn(t)) for t in grid]
    roots = (mpmath.findroot(fn, (a, b), solver="anderson")
             for (a, fa), (b, fb) in zip(values, values[1:]) if mpmath.sign(fa) * mpmath.sign(fb) < 0)
    return {sp.Float(r, mpmath.mp.dps) for r in roots if mpmath.isfinite(r)}


SMOOTH_ORDER = 24


def _power(log_weight) -> float:
    """The substitution power m for x = end +- y, y = u**m, at a finite support end: the density behaves like
    y**s there (s from two evaluations very close to the end), and m*(s + 1) = SMOOTH_ORDER makes the
    integrand ~ u**23 * log(u), smooth enough for Gauss-Legendre as well as tanh-sinh (u**4 is not, for s < 0).
    No substitution where s <= -1: the power is not integrable, or a log factor hides a power just above -1."""
    s = _end_slope(log_weight)
    return 1 if not mpmath.isfinite(s) or not 0 < s + 1 < SMOOTH_ORDER else SMOOTH_ORDER / (s + 1)


def _end_slope(log_f):
    """s where f(y) ~ y^s as y -> 0, from y = 1e-20 and 1e-30; nan where f cannot be evaluated there."""
    try:
        return _slope(log_f, mpmath.mpf(10) ** -20, mpmath.mpf(10) ** -30)
    except (ValueError, ZeroDivisionError):
        return mpmath.nan


def _has_log_at_end(expr, y) -> bool:
    """Whether expr holds a log of something that vanishes at y = 0 (log(y), log(2*y**2)): the integrand's
    log factors, which its leading power does not show."""
    return any(a.args[0].subs(y, 0) == 0 for a in expr.atoms(sp.log) if a.has(y))


def _end_power(log_weight, log_whole, logs=False):
    """The substitution power at a finite end, an even integer: half-integer powers of the distance y, which a
    transformation's square root brings (chi, rayleigh and maxwell integrated in their gamma or exponential
    variable: sqrt(y) terms under y^4), become whole powers of u. 2 where the density's power law, y^s, and the
    whole integrand's (density times f), y^w, are both whole powers y^0, y^1, ... (with 1, Gauss-Legendre stopped
    at 30 digits on chi(10)||gamma(10, 10)); else fitted (rounded up) to w where f is singular, w below s by more
    than a log factor's slope (logistic||gumbel's u^-0.8 in logistic's base variable, under a flat density); else
    fitted to s. Not 2 where the integrand holds log factors (``logs``) below its leading power: a rayleigh's
    x log x under the constant b/x * x of inversegamma's -log q left Gauss-Legendre 2e-20 off with u**2, so
    those are fitted too."""
    s, w = _end_slope(log_weight), _end_slope(log_whole)
    if not logs and all(mpmath.isfinite(v) and v > -mpmath.mpf(1) / 2 and abs(v - mpmath.nint(v)) < 1e-9
                        for v in (s, w)):
        return mpmath.mpf(2)
    fitted = _power(log_whole) if mpmath.isfinite(w) and mpmath.isfinite(s) and w < s - 0.1 else _power(log_weight)
    return mpmath.mpf(2 * math.ceil(fitted / 2))  # an mpf: 1/m sets the stops in u, exactly enough


_GRADED = [0] + [mpmath.mpf(2) ** -k for k in range(40, 0, -4)] + [1]


def _piece(g, a, b, method, near_a=None, near_b=None, graded=False, target=None):
    """Integrate g over (a, b). Next to a finite support end, ``near`` = (h, m) gives the integrand h(y) in the
    distance y to the end and the power m of the substitution y = u**m (see _power). ``graded`` splits each
    end's stretch at 2^-40 .. 2^-4 of its length (for the factors of a cubature, peaked anywhere), and without
    ``near`` substitutes u**16 there."""
    quad = lambda h, interval: _quad(h, interval, method, target)  # noqa: E731

    def part(end, side, near, length):
        if near is not None:  # split where y = length * 2^-k: a large m packs the whole end into u near 1
            h, m = near
            stops = [(length * t) ** (1 / m) for t in _GRADED] if graded or m > SMOOTH_ORDER else \
                [0, length ** (1 / m)]
            return quad(partial(_power_substituted, h, m), stops)
        if graded:
            scale = length ** (mpmath.mpf(1) / 16)
            return quad(lambda u: 16 * u**15 * g(end + side * u**16), [scale * t for t in _GRADED])
        return quad(g, sorted([end, end + side * length]))

    def tail(c, side):
        """From c to side*oo: as the integral over u in (0, 1] of g(c + side*(1/u - 1))/u^2 (mpmath's own map
        for an infinite range). An algebraic tail, x^-(1 + a) (pareto, cauchy, inversegamma), is u^(a - 1) there,
        singular for a < 1, where Gauss-Legendre does not converge: then the substitution u = v**m fitted to that
        power, as at a finite end."""
        h = lambda u: g(c + side * (1 / u - 1)) / u**2  # noqa: E731
        m = _power(lambda u: mpmath.log(abs(h(u))))
        return part(c, side, (h, m), 1) if m != 1 else quad(g, sorted([c, side * mpmath.inf]))
    if mpmath.isinf(a) and mpmath.isinf(b):
        return tail(0, -1) + tail(0, 1)
    if mpmath.isinf(b):
        return part(a, 1, near_a, 1) + tail(a + 1, 1)
    if mpmath.isinf(a):
        return part(b, -1, near_b, 1) + tail(b - 1, -1)
    if near_a is None and near_b is None and not graded:
        return quad(g, [a, b])  # between landmarks: smooth, so one piece (halves would double the nodes)
    return part(a, 1, near_a, (b - a) / 2) + part(b, -1, near_b, (b - a) / 2)


def _power_substituted(h, m, u):
    """The integrand h(y) dy in u, y = u**m: one power of u (mpmath's u**m for a fractional m is an exp and a
    log), divided by u for u**(m - 1); the nodes never reach u = 0."""
    y = u**m
    return m * y / u * h(y)


def _quad(h, interval, method, target=None):
    """mpmath.quad, or with ``target`` digits its nodes and stopping tolerance at that many digits, h still
    evaluated at the working precision, with the substitutions' arithmetic (end + u**m, c + 1/u - 1) around it:
    the integrand's own cancellations (log(x) - log(1 - x) next to 1) need the guard digits, the nodes do not."""
    if target is None:
        return mpmath.quad(h, interval, method=method)
    working = mpmath.mp.dps

    def at_working(t):
        with mpmath.workdps(working):
            return h(t)
    with mpmath.workdps(target):
        return mpmath.quad(at_working, interval, method=method)
