"""Univariate continuous families: declarations only (see ``Family``); nothing here is a pair's formula."""
from sympy import Abs, Interval, S, exp, gamma, log, loggamma, oo, pi

from ..family import ExpFamily, Family, Param

_LOG_SQRT_2PI = log(2 * pi) / 2
_GAUSSIAN_FORM = dict(natural=lambda mu, sigma: (mu / sigma**2, -1 / (2 * sigma**2)),
                      log_partition=lambda eta, *_: -eta[0]**2 / (4 * eta[1]) - log(-2 * eta[1]) / 2)

normal = Family(
    "normal", (Param("mu"), Param("sigma", "positive")), aliases=("gaussian", "norm"),
    support=lambda mu, sigma: S.Reals,
    log_density=lambda x, mu, sigma: -(x - mu)**2 / (2 * sigma**2) - log(sigma) - _LOG_SQRT_2PI,
    exp_family=ExpFamily(stats=lambda x: (x, x**2), log_base=lambda x, *_: -_LOG_SQRT_2PI, **_GAUSSIAN_FORM),
    mgf=lambda t, mu, sigma: exp(mu * t + sigma**2 * t**2 / 2),
    affine=lambda mu, sigma: (mu, sigma, (0, 1)),
    description="mean mu, standard deviation sigma",
)

lognormal = Family(
    "lognormal", (Param("mu"), Param("sigma", "positive")), aliases=("log-normal", "lognorm"),
    support=lambda mu, sigma: Interval.open(0, S.Infinity),
    log_density=lambda x, mu, sigma: -(log(x) - mu)**2 / (2 * sigma**2) - log(x) - log(sigma) - _LOG_SQRT_2PI,
    exp_family=ExpFamily(stats=lambda x: (log(x), log(x)**2), log_base=lambda x, *_: -log(x) - _LOG_SQRT_2PI,
                         **_GAUSSIAN_FORM),
    mellin=lambda t, mu, sigma: exp(mu * t + sigma**2 * t**2 / 2),
    transformation=lambda mu, sigma: (normal, (mu, sigma), exp),
    description="log X is normal(mu, sigma)",
)

exponential = Family(
    "exponential", (Param("rate", "positive"),), aliases=("exp", "expon"),
    support=lambda rate: Interval(0, S.Infinity),
    log_density=lambda x, rate: log(rate) - rate * x,
    exp_family=ExpFamily(stats=lambda x: (x,), natural=lambda rate: (-rate,),
                         log_partition=lambda eta, *_: -log(-eta[0]), log_base=lambda x, *_: S.Zero),
    mgf=lambda t, rate: rate / (rate - t), mgf_domain=lambda rate: Interval.open(-oo, rate),
    mellin=lambda t, rate: gamma(1 + t) / rate**t, mellin_domain=lambda rate: Interval.open(-1, oo),
    affine=lambda rate: (0, 1 / rate, (1,)),
    description="rate (inverse scale)",
)

gamma_ = Family(
    "gamma", (Param("shape", "positive"), Param("rate", "positive")),
    support=lambda shape, rate: Interval.open(0, S.Infinity),
    log_density=lambda x, shape, rate: shape * log(rate) + (shape - 1) * log(x) - rate * x - loggamma(shape),
    exp_family=ExpFamily(stats=lambda x: (log(x), x), natural=lambda shape, rate: (shape - 1, -rate),
                         log_partition=lambda eta, *_: loggamma(eta[0] + 1) - (eta[0] + 1) * log(-eta[1]),
                         log_base=lambda x, *_: S.Zero),
    mgf=lambda t, shape, rate: (1 - t / rate)**(-shape), mgf_domain=lambda shape, rate: Interval.open(-oo, rate),
    mellin=lambda t, shape, rate: gamma(shape + t) / (gamma(shape) * rate**t),
    mellin_domain=lambda shape, rate: Interval.open(-shape, oo),
    affine=lambda shape, rate: (0, 1 / rate, (shape, 1)),
    description="shape, rate (not scale)",
)

beta = Family(
    "beta", (Param("a", "positive"), Param("b", "positive")),
    support=lambda a, b: Interval.open(0, 1),
    log_density=lambda x, a, b: ((a - 1) * log(x) + (b - 1) * log(1 - x)
                                 + loggamma(a + b) - loggamma(a) - loggamma(b)),
    exp_family=ExpFamily(stats=lambda x: (log(x), log(1 - x)), natural=lambda a, b: (a - 1, b - 1),
                         log_partition=lambda eta, *_: (loggamma(eta[0] + 1) + loggamma(eta[1] + 1)
                                                        - loggamma(eta[0] + eta[1] + 2)),
                         log_base=lambda x, *_: S.Zero),
    mellin=lambda t, a, b: gamma(a + t) * gamma(a + b) / (gamma(a) * gamma(a + b + t)),
    mellin_domain=lambda a, b: Interval.open(-a, oo),
    description="shape parameters a (alpha), b (beta)",
)

uniform = Family(
    "uniform", (Param("low"), Param("high")), aliases=("unif",),
    support=lambda low, high: Interval(low, high),
    log_density=lambda x, low, high: -log(high - low),
    relations=((lambda low, high: low < high, "low < high"),),
    affine=lambda low, high: (low, high - low, (0, 1)),
    description="on [low, high]",
)

laplace = Family(
    "laplace", (Param("loc"), Param("scale", "positive")), aliases=("double-exponential",),
    support=lambda loc, scale: S.Reals,
    log_density=lambda x, loc, scale: -Abs(x - loc) / scale - log(2 * scale),
    mgf=lambda t, loc, scale: exp(loc * t) / (1 - scale**2 * t**2),
    mgf_domain=lambda loc, scale: Interval.open(-1 / scale, 1 / scale),
    affine=lambda loc, scale: (loc, scale, (0, 1)),
    description="location loc, scale b: density exp(-|x - loc|/b)/(2b)",
)

FAMILIES = (normal, lognormal, exponential, gamma_, beta, uniform, laplace)
