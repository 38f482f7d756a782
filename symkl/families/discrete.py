"""Discrete families: declarations only. categorical is built per K by ``categorical(K)``."""
from functools import lru_cache

from sympy import Add, Eq, FiniteSet, Piecewise, Range, S, exp, log, loggamma

from ..family import ExpFamily, Family, Param

_LOGIT = lambda p: (log(p / (1 - p)),)  # noqa: E731 - the natural parameter of a success probability

bernoulli = Family(
    "bernoulli", (Param("p", "unit"),), discrete=True, aliases=("bern", "coin"),
    support=lambda p: FiniteSet(0, 1),
    log_density=lambda x, p: x * log(p) + (1 - x) * log(1 - p),
    exp_family=ExpFamily(stats=lambda x: (x,), natural=_LOGIT,
                         log_partition=lambda eta, *_: log(1 + exp(eta[0])), log_base=lambda x, *_: S.Zero),
    description="success probability p",
)

binomial = Family(
    "binomial", (Param("n", "posint"), Param("p", "unit")), discrete=True, aliases=("binom",),
    support=lambda n, p: Range(0, n + 1),
    log_density=lambda x, n, p: (loggamma(n + 1) - loggamma(x + 1) - loggamma(n - x + 1)
                                 + x * log(p) + (n - x) * log(1 - p)),
    exp_family=ExpFamily(stats=lambda x: (x,), natural=lambda n, p: _LOGIT(p),
                         log_partition=lambda eta, n, p: n * log(1 + exp(eta[0])),
                         log_base=lambda x, n, p: loggamma(n + 1) - loggamma(x + 1) - loggamma(n - x + 1)),
    description="n trials, success probability p",
)

geometric = Family(
    "geometric", (Param("p", "unit_left_open"),), discrete=True, aliases=("geom",),
    support=lambda p: Range(0, S.Infinity),
    log_density=lambda x, p: log(p) + x * log(1 - p),
    exp_family=ExpFamily(stats=lambda x: (x,), natural=lambda p: (log(1 - p),),
                         log_partition=lambda eta, *_: -log(1 - exp(eta[0])), log_base=lambda x, *_: S.Zero),
    description="failures before the first success; success probability p",
)

negativebinomial = Family(
    "negativebinomial", (Param("r", "positive"), Param("p", "unit_open")), discrete=True, aliases=("negbin", "nbinom"),
    support=lambda r, p: Range(0, S.Infinity),
    log_density=lambda x, r, p: loggamma(x + r) - loggamma(r) - loggamma(x + 1) + r * log(p) + x * log(1 - p),
    exp_family=ExpFamily(stats=lambda x: (x,), natural=lambda r, p: (log(1 - p),),
                         log_partition=lambda eta, r, p: -r * log(1 - exp(eta[0])),
                         log_base=lambda x, r, p: loggamma(x + r) - loggamma(r) - loggamma(x + 1)),
    description="failures before the r-th success; success probability p (r need not be whole)",
)

poisson = Family(
    "poisson", (Param("rate", "positive"),), discrete=True, aliases=("pois",),
    support=lambda rate: Range(0, S.Infinity),
    log_density=lambda x, rate: x * log(rate) - rate - loggamma(x + 1),
    exp_family=ExpFamily(stats=lambda x: (x,), natural=lambda rate: (log(rate),),
                         log_partition=lambda eta, *_: exp(eta[0]), log_base=lambda x, *_: -loggamma(x + 1)),
    description="rate (mean)",
)


@lru_cache(maxsize=None)
def categorical(k: int) -> Family:
    """The categorical family on {1..K}: one declaration per K, parameters p1..pK summing to 1."""
    return Family(
        "categorical", tuple(Param(f"p{i}", "unit") for i in range(1, k + 1)), discrete=True, index=k,
        support=lambda *p: Range(1, k + 1),
        log_density=lambda x, *p: Add(*[Piecewise((1, Eq(x, i)), (0, True)) * log(pi)
                                        for i, pi in enumerate(p, 1)]),
        relations=((lambda *p: sum(p) == 1, "p1 + ... + pK = 1"),),
        description="probabilities p1..pK of the outcomes 1..K",
    )


FAMILIES = (bernoulli, binomial, geometric, negativebinomial, poisson)
