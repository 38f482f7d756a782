"""Continuous families on the unit interval: declarations only (see ``Family``)."""
from sympy import Interval, S, atanh, exp, gamma, log, oo, pi

from ..family import ExpFamily, Family, Param
from .continuous import beta, normal

continuousbernoulli = Family(
    "continuousbernoulli", (Param("lam", "unit_open"),), aliases=("cb", "continuous-bernoulli"),
    support=lambda lam: Interval(0, 1),
    log_density=lambda x, lam: x * log(lam) + (1 - x) * log(1 - lam) + log(2 * atanh(1 - 2 * lam) / (1 - 2 * lam)),
    exp_family=ExpFamily(stats=lambda x: (x,), natural=lambda lam: (log(lam / (1 - lam)),),
                         log_partition=lambda eta, *_: log((exp(eta[0]) - 1) / eta[0]), log_base=lambda x, *_: S.Zero),
    description="density proportional to lam**x (1 - lam)**(1 - x) on [0, 1]; lam = 1/2 is uniform",
)

kumaraswamy = Family(
    "kumaraswamy", (Param("a", "positive"), Param("b", "positive")),
    support=lambda a, b: Interval.open(0, 1),
    log_density=lambda x, a, b: log(a) + log(b) + (a - 1) * log(x) + (b - 1) * log(1 - x**a),
    mellin=lambda t, a, b: b * gamma(1 + t / a) * gamma(b) / gamma(1 + t / a + b),
    mellin_domain=lambda a, b: Interval.open(-a, oo),
    transformation=lambda a, b: (beta, (1, b), lambda y: y**(1 / a)),
    description="density a b x**(a - 1) (1 - x**a)**(b - 1); X = Y**(1/a), Y ~ beta(1, b)",
)

logitnormal = Family(
    "logitnormal", (Param("mu"), Param("sigma", "positive")), aliases=("logit-normal",),
    support=lambda mu, sigma: Interval.open(0, 1),
    log_density=lambda x, mu, sigma: (-(2 * atanh(2 * x - 1) - mu)**2 / (2 * sigma**2) - log(x) - log(1 - x)
                                      - log(sigma) - log(2 * pi) / 2),
    transformation=lambda mu, sigma: (normal, (mu, sigma), lambda y: 1 / (1 + exp(-y))),
    description="logit(X) = 2 atanh(2X - 1) is normal(mu, sigma)",
)

FAMILIES = (continuousbernoulli, kumaraswamy, logitnormal)
