"""Multivariate families: declarations only, one per size (``dirichlet(3)``, ``diagnormal(2)``, ``mvnormal(2)``),
and ``mvnormal_general()``, the mvnormal of symbolic dimension d in matrix symbols. Nothing here is a pair's
formula: the log-densities are written once, with sympy Matrix algebra where there is a matrix."""
from functools import lru_cache

from sympy import (Add, ConditionSet, Determinant, Eq, Interval, Matrix, ProductSet, S, Trace, Tuple, exp, log,
                   loggamma, pi, symbols)
from sympy.matrices.expressions.sets import MatrixSet

from ..family import ExpFamily, Family, Param
from ..vector import DIM
from .continuous import normal


def _simplex(k: int):
    """The open simplex {x in (0, 1)^K : x1 + ... + xK = 1}."""
    xs = symbols(f"x1:{k + 1}", positive=True)
    return ConditionSet(Tuple(*xs), Eq(Add(*xs), 1), ProductSet(*[Interval.open(0, 1)] * k))


@lru_cache(maxsize=None)
def dirichlet(k: int) -> Family:
    """Dirichlet on the K-simplex: an exponential family with T(x) = (log x1, ..., log xK)."""
    return Family(
        "dirichlet", tuple(Param(f"alpha{i}", "positive") for i in range(1, k + 1)), index=k, dim=k,
        support=lambda *alpha: _simplex(k),
        log_density=lambda x, *alpha: (Add(*[(a - 1) * log(xi) for a, xi in zip(alpha, x)])
                                       + loggamma(Add(*alpha)) - Add(*map(loggamma, alpha))),
        exp_family=ExpFamily(stats=lambda x: tuple(log(xi) for xi in x),
                             natural=lambda *alpha: tuple(a - 1 for a in alpha),
                             log_partition=lambda eta, *_: (Add(*[loggamma(e + 1) for e in eta])
                                                            - loggamma(Add(*[e + 1 for e in eta]))),
                             log_base=lambda x, *_: S.Zero),
        arrays=(("alpha", tuple(range(k))),),
        description="concentrations alpha1..alphaK, on the simplex x1 + ... + xK = 1",
    )


@lru_cache(maxsize=None)
def diagnormal(d: int) -> Family:
    """Independent normal coordinates X_i ~ normal(mu_i, sigma_i): all mu first, then all sigma."""
    parts = lambda p: tuple((normal, (p[i], p[d + i])) for i in range(d))  # noqa: E731 - coordinate i's normal
    return Family(
        "diagnormal", tuple(Param(f"mu{i}") for i in range(1, d + 1))
        + tuple(Param(f"sigma{i}", "positive") for i in range(1, d + 1)), index=d, dim=d,
        support=lambda *p: ProductSet(*[S.Reals] * d),
        log_density=lambda x, *p: Add(*[fam.log_density(xi, *ps) for xi, (fam, ps) in zip(x, parts(p))]),
        components=lambda *p: parts(p),
        arrays=(("mu", tuple(range(d))), ("sigma", tuple(range(d, 2 * d)))),
        description="mean mu_i and standard deviation sigma_i of independent coordinates",
    )


def _covariance_positions(d: int) -> list[tuple[int, int]]:
    """(i, j) of the covariance entries in parameter order: the upper triangle, row by row."""
    return [(i, j) for i in range(d) for j in range(i, d)]


def _mean_covariance(d: int, p: tuple):
    """The mean vector and the symmetric covariance matrix from mvnormal(d)'s parameters."""
    cov = Matrix.zeros(d, d)
    for (i, j), value in zip(_covariance_positions(d), p[d:]):
        cov[i, j] = cov[j, i] = value
    return Matrix(p[:d]), cov


def _log_density(x, mean, cov, logdet):
    """The normal log-density as a quadratic form: -(x - m)^T S^-1 (x - m)/2 - log det S/2 - d log(2 pi)/2."""
    r = x - mean
    return -Trace(r.T * cov.inv() * r) / 2 - logdet / 2 - x.shape[0] * log(2 * pi) / 2


def _positive_definite(cov) -> bool:
    """Sylvester's criterion: every leading principal minor is positive."""
    return all(cov[:k, :k].det() > 0 for k in range(1, cov.shape[0] + 1))


@lru_cache(maxsize=None)
def mvnormal(d: int) -> Family:
    """The normal on R^d with mean mu1..mud and covariance entries Sigma11, Sigma12, ... (upper triangle)."""
    params = tuple(Param(f"mu{i}") for i in range(1, d + 1)) + tuple(
        Param(f"Sigma{i + 1}{j + 1}", "positive" if i == j else "real") for i, j in _covariance_positions(d))
    index = {pos: d + n for n, pos in enumerate(_covariance_positions(d))}

    def log_density(x, *p):
        mean, cov = _mean_covariance(d, p)
        return _log_density(x, mean, cov, log(cov.det())).doit()

    def mgf(t, *p):
        mean, cov = _mean_covariance(d, p)
        return exp((t.T * mean)[0] + (t.T * cov * t)[0] / 2)

    return Family(
        "mvnormal", params, index=d, dim=d,
        support=lambda *p: ProductSet(*[S.Reals] * d),
        log_density=log_density, mgf=mgf,
        relations=((lambda *p: _positive_definite(_mean_covariance(d, p)[1]),
                    "Sigma positive definite (every leading minor > 0)"),),
        arrays=(("mu", tuple(range(d))),
                ("Sigma", tuple(tuple(index[min(i, j), max(i, j)] for j in range(d)) for i in range(d)))),
        description="mean vector mu, covariance matrix Sigma (symmetric positive definite)",
    )


@lru_cache(maxsize=None)
def mvnormal_general() -> Family:
    """The normal on R^d for a symbolic d: mean mu and covariance Sigma are matrix symbols."""
    return Family(
        "mvnormal", (Param("mu", shape=(DIM, 1)), Param("Sigma", "spd", shape=(DIM, DIM))), index=DIM, dim=DIM,
        support=lambda mu, sigma: MatrixSet(DIM, 1, S.Reals),
        log_density=lambda x, mu, sigma: _log_density(x, mu, sigma, log(Determinant(sigma))),
        moments=lambda mu, sigma: (mu, sigma),
        description="mean vector mu, covariance matrix Sigma, in matrix symbols of dimension d",
    )
