"""Continuous families on a half-line: declarations only (see ``Family``); nothing here is a pair's formula.

Each declares the domain of its Mellin transform (and MGF): heavy tails (pareto, halfcauchy, levy,
inversegamma) make E[X^t] finite only there, and the engine turns that into oo or a condition.
"""
from sympy import Interval, S, cos, erf, exp, expint, gamma, log, loggamma, pi, sqrt

from ..family import ExpFamily, Family, Param
from .continuous import exponential, gamma_

_HALF_LINE, _OPEN_HALF_LINE = Interval(0, S.Infinity), Interval.open(0, S.Infinity)
_ABOVE = lambda low: Interval.open(low, S.Infinity)  # a Mellin strip open to the right
_BELOW = lambda high: Interval.open(S.NegativeInfinity, high)  # a strip or MGF domain open to the left


def _in_x_squared(log_partition, log_base):
    """The exponential-family form of sigma-scale families with T(x) = x^2, eta = -1/(2 sigma^2)."""
    return ExpFamily(stats=lambda x: (x**2,), natural=lambda s: (-1 / (2 * s**2),),
                     log_partition=lambda eta, *_: log_partition(-2 * eta[0]), log_base=log_base)


halfnormal = Family(
    "halfnormal", (Param("sigma", "positive"),), aliases=("half-normal", "halfnorm"), support=lambda s: _HALF_LINE,
    log_density=lambda x, s: log(2 / pi) / 2 - log(s) - x**2 / (2 * s**2),
    exp_family=_in_x_squared(lambda u: -log(u) / 2, lambda x, *_: log(2 / pi) / 2),
    mgf=lambda t, s: exp(s**2 * t**2 / 2) * (1 + erf(s * t / sqrt(2))),
    mellin=lambda t, s: 2**(t / 2) * s**t * gamma((1 + t) / 2) / sqrt(pi), mellin_domain=lambda s: _ABOVE(-1),
    affine=lambda s: (0, s, (1,)), description="|Y| for Y normal(0, sigma)",
)

chi2 = Family(
    "chi2", (Param("df", "positive"),), aliases=("chisquare", "chi-squared"), support=lambda k: _OPEN_HALF_LINE,
    log_density=lambda x, k: (k / 2 - 1) * log(x) - x / 2 - k / 2 * log(2) - loggamma(k / 2),
    exp_family=ExpFamily(stats=lambda x: (log(x),), natural=lambda k: (k / 2 - 1,), log_base=lambda x, *_: -x / 2,
                         log_partition=lambda eta, *_: loggamma(eta[0] + 1) + (eta[0] + 1) * log(2)),
    mgf=lambda t, k: (1 - 2 * t)**(-k / 2), mgf_domain=lambda k: _BELOW(S.Half),
    mellin=lambda t, k: 2**t * gamma(k / 2 + t) / gamma(k / 2), mellin_domain=lambda k: _ABOVE(-k / 2),
    transformation=lambda k: (gamma_, (k / 2, S.Half), lambda y: y), description="df degrees of freedom",
)

chi = Family(
    "chi", (Param("df", "positive"),), support=lambda k: _OPEN_HALF_LINE,
    log_density=lambda x, k: (k - 1) * log(x) - x**2 / 2 - (k / 2 - 1) * log(2) - loggamma(k / 2),
    exp_family=ExpFamily(stats=lambda x: (log(x),), natural=lambda k: (k - 1,), log_base=lambda x, *_: -x**2 / 2,
                         log_partition=lambda eta, *_: loggamma((eta[0] + 1) / 2) + ((eta[0] + 1) / 2 - 1) * log(2)),
    mellin=lambda t, k: 2**(t / 2) * gamma((k + t) / 2) / gamma(k / 2), mellin_domain=lambda k: _ABOVE(-k),
    transformation=lambda k: (chi2, (k,), sqrt), description="sqrt of a chi2(df)",
)

inversegamma = Family(
    "inversegamma", (Param("shape", "positive"), Param("scale", "positive")), aliases=("invgamma", "inverse-gamma"),
    support=lambda a, b: _OPEN_HALF_LINE,
    log_density=lambda x, a, b: a * log(b) - loggamma(a) - (a + 1) * log(x) - b / x,
    exp_family=ExpFamily(stats=lambda x: (log(x), 1 / x), natural=lambda a, b: (-a - 1, -b),
                         log_base=lambda x, *_: S.Zero,
                         log_partition=lambda eta, *_: loggamma(-eta[0] - 1) + (eta[0] + 1) * log(-eta[1])),
    mellin=lambda t, a, b: b**t * gamma(a - t) / gamma(a), mellin_domain=lambda a, b: _BELOW(a),
    affine=lambda a, b: (0, b, (a, 1)), description="1/Y for Y gamma(shape, rate = scale)",
)

rayleigh = Family(
    "rayleigh", (Param("sigma", "positive"),), support=lambda s: _HALF_LINE,
    log_density=lambda x, s: log(x) - 2 * log(s) - x**2 / (2 * s**2),
    exp_family=_in_x_squared(lambda u: -log(u), lambda x, *_: log(x)),
    mgf=lambda t, s: 1 + s * t * exp(s**2 * t**2 / 2) * sqrt(pi / 2) * (1 + erf(s * t / sqrt(2))),
    mellin=lambda t, s: 2**(t / 2) * s**t * gamma(1 + t / 2), mellin_domain=lambda s: _ABOVE(-2),
    affine=lambda s: (0, s, (1,)), description="the norm of two independent normal(0, sigma)",
)

maxwell = Family(
    "maxwell", (Param("scale", "positive"),), aliases=("maxwell-boltzmann",), support=lambda a: _HALF_LINE,
    log_density=lambda x, a: log(2 / pi) / 2 + 2 * log(x) - 3 * log(a) - x**2 / (2 * a**2),
    exp_family=_in_x_squared(lambda u: -3 * log(u) / 2, lambda x, *_: 2 * log(x) + log(2 / pi) / 2),
    mellin=lambda t, a: 2**(t / 2 + 1) * a**t * gamma((3 + t) / 2) / sqrt(pi), mellin_domain=lambda a: _ABOVE(-3),
    affine=lambda a: (0, a, (1,)), description="the norm of three independent normal(0, scale)",
)

weibull = Family(
    "weibull", (Param("shape", "positive"), Param("scale", "positive")), aliases=("weibull_min",),
    support=lambda k, lam: _HALF_LINE,
    log_density=lambda x, k, lam: log(k) - k * log(lam) + (k - 1) * log(x) - x**k / lam**k,
    mellin=lambda t, k, lam: lam**t * gamma(1 + t / k), mellin_domain=lambda k, lam: _ABOVE(-k),
    affine=lambda k, lam: (0, lam, (k, 1)), description="scale * E**(1/shape) for E exponential(1)",
)

pareto = Family(
    "pareto", (Param("scale", "positive"), Param("shape", "positive")), support=lambda xm, a: Interval(xm, S.Infinity),
    log_density=lambda x, xm, a: log(a) + a * log(xm) - (a + 1) * log(x),
    mellin=lambda t, xm, a: a * xm**t / (a - t), mellin_domain=lambda xm, a: _BELOW(a),
    affine=lambda xm, a: (0, xm, (1, a)), transformation=lambda xm, a: (exponential, (a,), lambda y: xm * exp(y)),
    description="scale x_m (the lowest value), shape alpha: density alpha x_m^alpha / x^(alpha + 1)",
)


def _halfcauchy_log_square(h, x, s):
    """E[log(X^2 + d)] = 2 log(s + sqrt(d)) for d >= 0 (the real part of 2 E[log(X + i sqrt(d))], and
    log(z + i sqrt(d)) is analytic in the upper half plane, where the Cauchy density's pole is is)."""
    if not isinstance(h, log) or not h.args[0].is_polynomial(x):
        return None
    d = h.args[0] - x**2
    return 2 * log(s + sqrt(d)) if not d.has(x) and d.is_nonnegative else None


halfcauchy = Family(
    "halfcauchy", (Param("scale", "positive"),), aliases=("half-cauchy",), support=lambda s: _HALF_LINE,
    log_density=lambda x, s: log(2 / pi) + log(s) - log(x**2 + s**2),
    mellin=lambda t, s: s**t / cos(pi * t / 2), mellin_domain=lambda s: Interval.open(-1, 1),
    affine=lambda s: (0, s, (1,)), known_expectation=_halfcauchy_log_square, description="|Y| for Y cauchy(0, scale)",
)

levy = Family(
    "levy", (Param("loc"), Param("scale", "positive")), aliases=("levy_stable_half",),
    support=lambda loc, c: Interval.open(loc, S.Infinity),
    log_density=lambda x, loc, c: log(c) / 2 - log(2 * pi) / 2 - c / (2 * (x - loc)) - 3 * log(x - loc) / 2,
    mgf=lambda t, loc, c: exp(loc * t - sqrt(-2 * c * t)), mgf_domain=lambda loc, c: _BELOW(0),
    affine=lambda loc, c: (loc, c, (0, 1)), moments_below=lambda loc, c: S.Half,
    transformation=lambda loc, c: (inversegamma, (S.Half, c / 2), lambda y: loc + y),
    description="loc + an inversegamma(1/2, scale/2): the first passage time of a Brownian motion",
)


def _ig_log(h, x, mu, lam):
    """E[log X] = log mu - exp(2 lam/mu) E1(2 lam/mu): the Mellin transform's derivative at t = 0, where the
    derivative of K_nu in its order at nu = -1/2 is known (DLMF 10.38.7); sympy cannot take it."""
    return log(mu) - exp(2 * lam / mu) * expint(1, 2 * lam / mu) if h == log(x) else None


inversegaussian = Family(
    "inversegaussian", (Param("mu", "positive"), Param("lam", "positive")), aliases=("wald", "invgauss"),
    support=lambda mu, lam: _OPEN_HALF_LINE,
    log_density=lambda x, mu, lam: (log(lam) / 2 - log(2 * pi) / 2 - 3 * log(x) / 2 - lam * x / (2 * mu**2) + lam / mu
                                    - lam / (2 * x)),
    exp_family=ExpFamily(stats=lambda x: (x, 1 / x), natural=lambda mu, lam: (-lam / (2 * mu**2), -lam / 2),
                         log_partition=lambda eta, *_: -2 * sqrt(eta[0] * eta[1]) - log(-2 * eta[1]) / 2,
                         log_base=lambda x, *_: -log(2 * pi) / 2 - 3 * log(x) / 2),
    mgf=lambda t, mu, lam: exp(lam / mu * (1 - sqrt(1 - 2 * mu**2 * t / lam))),
    mgf_domain=lambda mu, lam: _BELOW(lam / (2 * mu**2)), known_expectation=_ig_log,
    description="mean mu, shape lam (lambda)",
)

FAMILIES = (halfnormal, chi2, chi, inversegamma, rayleigh, maxwell, weibull, pareto, halfcauchy, levy,
            inversegaussian)
