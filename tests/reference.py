"""Hand-typed reference formulas for the independent symkl reference tests.

Nothing here imports symkl or pytest.  Every value is computed from textbook
closed forms typed by hand as plain mpmath code:

* per family P, the expectations E_P[x], E_P[x^2], E_P[log x],
  E_P[(log x)^2], E_P[log(1-x)], E_P[|x - c|] (continuous) and
  E_P[k], E_P[log k!], E_P[log C(n, k)], P(k = i) (discrete);
* per family Q, its log-density written out as a combination of those
  features;
* cross_entropy(P, Q) = -E_P[log q], entropy(P) from the textbook closed form,
  kl(P, Q) = cross_entropy(P, Q) - entropy(P);
* a second, independent set of famous same-family KL closed forms
  (kl_closed_form), so those pairs have two references.

Conventions: natural logs (nats); 0 log 0 = 0; KL and cross-entropy are
mpmath.inf when P puts mass where Q has none (decided from the parameter
values, see support_ok).

Parameters are tuples in the declared order of each family (see FAMILIES);
they may be given as mpf, int or decimal strings ("0.37").  Every public
function works at mpmath's current precision plus a guard of GUARD digits and
returns an mpf carrying that extra precision.

tests/check_reference.py checks all of this against numerical
quadrature/summation.
"""

from __future__ import annotations

import functools
import random
from decimal import Decimal

import mpmath
from mpmath import mp, mpf, inf, log, exp, pi, sqrt, erf, erfc, digamma, psi, loggamma

GUARD = 20

# ---------------------------------------------------------------------------
# the contract: family names and parameter names/order
# ---------------------------------------------------------------------------
CONTINUOUS = {
    "normal": ("mu", "sigma"),
    "lognormal": ("mu", "sigma"),
    "exponential": ("rate",),
    "gamma": ("shape", "rate"),
    "beta": ("a", "b"),
    "uniform": ("low", "high"),
    "laplace": ("loc", "scale"),
}
DISCRETE = {
    "bernoulli": ("p",),
    "binomial": ("n", "p"),
    "geometric": ("p",),
    "poisson": ("rate",),
    "categorical": ("p1", "p2", "p3"),  # K = 3, support {1, 2, 3}
}
FAMILIES = {**CONTINUOUS, **DISCRETE}

CONTINUOUS_PAIRS = [(a, b) for a in CONTINUOUS for b in CONTINUOUS]
DISCRETE_PAIRS = [(a, b) for a in DISCRETE for b in DISCRETE]
ALL_PAIRS = CONTINUOUS_PAIRS + DISCRETE_PAIRS

# families whose same-family KL has a separately typed closed form
CLOSED_FORM_FAMILIES = ("normal", "lognormal", "exponential", "gamma", "beta",
                        "uniform", "laplace", "bernoulli", "binomial",
                        "geometric", "poisson", "categorical")


def _guarded(fn):
    """Run fn at mp.dps + GUARD digits, converting parameter tuples to mpf."""

    @functools.wraps(fn)
    def wrapper(*args):
        with mp.workdps(mp.dps + GUARD):
            conv = []
            for a in args:
                if isinstance(a, (tuple, list)):
                    conv.append(tuple(_num(v) for v in a))
                else:
                    conv.append(a)
            return fn(*conv)

    return wrapper


def _num(v):
    if isinstance(v, int):
        return v
    if isinstance(v, str):
        return mpf(v)
    return mpf(v)


def _xlogy(a, b):
    """a*log(b) with 0*log(anything) = 0 and a*log(0) = -inf for a > 0."""
    if a == 0:
        return mpf(0)
    if b == 0:
        return -inf
    return a * log(b)


def _xlogx_over(a, b):
    """a*log(a/b) with 0 log 0 = 0 and a log(a/0) = +inf for a > 0."""
    if a == 0:
        return mpf(0)
    if b == 0:
        return inf
    return a * log(a / b)


def _Phi(z):
    """Standard normal CDF, via erfc for accuracy in the lower tail."""
    return erfc(-z / sqrt(2)) / 2


def _trigamma(x):
    return psi(1, x)


def _logbeta(a, b):
    return loggamma(a) + loggamma(b) - loggamma(a + b)


def _logchoose(n, k):
    return loggamma(n + 1) - loggamma(k + 1) - loggamma(n - k + 1)


# ---------------------------------------------------------------------------
# supports
# ---------------------------------------------------------------------------
def _cont_support(fam, p):
    """Closed interval (lo, hi) containing the support (ends may be +-inf)."""
    if fam in ("normal", "laplace"):
        return (-inf, inf)
    if fam in ("lognormal", "exponential", "gamma"):
        return (mpf(0), inf)
    if fam == "beta":
        return (mpf(0), mpf(1))
    if fam == "uniform":
        return (p[0], p[1])
    raise KeyError(fam)


def _disc_support(fam, p):
    """Support of a discrete P: a frozenset, or None meaning all of {0,1,2,...}.

    Boundary parameters (p = 0 or 1) shrink the support: the set holds only
    the points with positive mass.
    """
    if fam == "bernoulli":
        (q,) = p
        s = set()
        if q < 1:
            s.add(0)
        if q > 0:
            s.add(1)
        return frozenset(s)
    if fam == "binomial":
        n, q = int(p[0]), p[1]
        if q == 0:
            return frozenset({0})
        if q == 1:
            return frozenset({n})
        return frozenset(range(n + 1))
    if fam == "geometric":
        (q,) = p
        return frozenset({0}) if q == 1 else None
    if fam == "poisson":
        return None
    if fam == "categorical":
        return frozenset(i + 1 for i, pi_ in enumerate(p) if pi_ > 0)
    raise KeyError(fam)


def _disc_nominal_range(fam, p):
    """Values where Q's pmf formula is defined (zero-mass boundary points are
    handled by the 0 log 0 / a log 0 conventions in the cross-entropy)."""
    if fam == "bernoulli":
        return frozenset({0, 1})
    if fam == "binomial":
        return frozenset(range(int(p[0]) + 1))
    if fam in ("geometric", "poisson"):
        return None
    if fam == "categorical":
        return frozenset({1, 2, 3})
    raise KeyError(fam)


def support_ok(fp, pp, fq, qp):
    """True iff supp P is contained in supp Q (up to measure zero), i.e. iff
    KL(P||Q) and H(P, Q) are finite for these parameter values."""
    with mp.workdps(mp.dps + GUARD):
        pp = tuple(_num(v) for v in pp)
        qp = tuple(_num(v) for v in qp)
        if fp in CONTINUOUS:
            plo, phi = _cont_support(fp, pp)
            qlo, qhi = _cont_support(fq, qp)
            return bool(plo >= qlo and phi <= qhi)
        sp = _disc_support(fp, pp)
        sq = _disc_nominal_range(fq, qp)
        if sq is None:
            return True
        if sp is None:
            return False
        if not sp <= sq:
            return False
        # zero-mass points of Q inside its nominal range
        sq_true = _disc_support(fq, qp)
        if sq_true is None:
            return True
        return sp <= sq_true


# ---------------------------------------------------------------------------
# continuous: expectations under P
# ---------------------------------------------------------------------------
def _E_x(fam, p):
    if fam in ("normal", "laplace"):
        return p[0]
    if fam == "lognormal":
        m, s = p
        return exp(m + s**2 / 2)
    if fam == "exponential":
        return 1 / p[0]
    if fam == "gamma":
        k, r = p
        return k / r
    if fam == "beta":
        a, b = p
        return a / (a + b)
    if fam == "uniform":
        l, h = p
        return (l + h) / 2
    raise KeyError(fam)


def _E_x2(fam, p):
    if fam == "normal":
        m, s = p
        return m**2 + s**2
    if fam == "laplace":
        m, b = p
        return m**2 + 2 * b**2
    if fam == "lognormal":
        m, s = p
        return exp(2 * m + 2 * s**2)
    if fam == "exponential":
        return 2 / p[0] ** 2
    if fam == "gamma":
        k, r = p
        return k * (k + 1) / r**2
    if fam == "beta":
        a, b = p
        return a * (a + 1) / ((a + b) * (a + b + 1))
    if fam == "uniform":
        l, h = p
        return (l**2 + l * h + h**2) / 3
    raise KeyError(fam)


def _uniform_log_antider(x):
    # d/dx [x log x - x] = log x ; 0 log 0 = 0
    return (x * log(x) if x != 0 else mpf(0)) - x


def _uniform_log2_antider(x):
    # d/dx [x (log^2 x - 2 log x + 2)] = log^2 x
    if x == 0:
        return mpf(0)
    L = log(x)
    return x * (L**2 - 2 * L + 2)


def _uniform_log1m_antider(x):
    # d/dx [-(1-x) log(1-x) - x] = log(1-x)
    y = 1 - x
    return -(y * log(y) if y != 0 else mpf(0)) - x


def _E_logx(fam, p):
    """E_P[log x]; only called when supp P is in [0, oo)."""
    if fam == "lognormal":
        return p[0]
    if fam == "exponential":
        return -mpmath.euler - log(p[0])
    if fam == "gamma":
        k, r = p
        return digamma(k) - log(r)
    if fam == "beta":
        a, b = p
        return digamma(a) - digamma(a + b)
    if fam == "uniform":
        l, h = p
        return (_uniform_log_antider(h) - _uniform_log_antider(l)) / (h - l)
    raise KeyError(fam)


def _E_log2x(fam, p):
    """E_P[(log x)^2]; only called when supp P is in [0, oo)."""
    if fam == "lognormal":
        m, s = p
        return m**2 + s**2
    if fam == "exponential":
        return pi**2 / 6 + (mpmath.euler + log(p[0])) ** 2
    if fam == "gamma":
        k, r = p
        return _trigamma(k) + (digamma(k) - log(r)) ** 2
    if fam == "beta":
        a, b = p
        return _trigamma(a) - _trigamma(a + b) + (digamma(a) - digamma(a + b)) ** 2
    if fam == "uniform":
        l, h = p
        return (_uniform_log2_antider(h) - _uniform_log2_antider(l)) / (h - l)
    raise KeyError(fam)


def _E_log1mx(fam, p):
    """E_P[log(1 - x)]; only called when supp P is in [0, 1]."""
    if fam == "beta":
        a, b = p
        return digamma(b) - digamma(a + b)
    if fam == "uniform":
        l, h = p
        return (_uniform_log1m_antider(h) - _uniform_log1m_antider(l)) / (h - l)
    raise KeyError(fam)


def _E_abs(fam, p, c):
    """E_P[|x - c|]."""
    if fam == "normal":
        m, s = p
        d = m - c
        return s * sqrt(2 / pi) * exp(-d**2 / (2 * s**2)) + d * erf(d / (s * sqrt(2)))
    if fam == "laplace":
        m, b = p
        d = abs(m - c)
        return d + b * exp(-d / b)
    if fam == "uniform":
        l, h = p
        if c <= l:
            return (l + h) / 2 - c
        if c >= h:
            return c - (l + h) / 2
        return ((c - l) ** 2 + (h - c) ** 2) / (2 * (h - l))
    if fam == "exponential":
        (r,) = p
        if c <= 0:
            return 1 / r - c
        return c - 1 / r + 2 * exp(-r * c) / r
    # for the remaining families (support in [0, oo)):
    # E|X - c| = E[X] - c + 2 E[(c - X)^+],
    # E[(c - X)^+] = c F(c) - E[X; X < c]
    mean = _E_x(fam, p)
    if c <= 0:
        return mean - c
    if fam == "gamma":
        k, r = p
        F = mpmath.gammainc(k, 0, r * c, regularized=True)
        G = (k / r) * mpmath.gammainc(k + 1, 0, r * c, regularized=True)
    elif fam == "beta":
        a, b = p
        if c >= 1:
            return c - mean
        F = mpmath.betainc(a, b, 0, c, regularized=True)
        G = (a / (a + b)) * mpmath.betainc(a + 1, b, 0, c, regularized=True)
    elif fam == "lognormal":
        m, s = p
        z = (log(c) - m) / s
        F = _Phi(z)
        G = exp(m + s**2 / 2) * _Phi(z - s)
    else:
        raise KeyError(fam)
    return mean - c + 2 * (c * F - G)


# ---------------------------------------------------------------------------
# continuous: cross-entropy from Q's log-density
# ---------------------------------------------------------------------------
def _cont_cross_entropy(fp, pp, fq, qp):
    if not support_ok(fp, pp, fq, qp):
        return inf
    Ex = lambda: _E_x(fp, pp)
    Ex2 = lambda: _E_x2(fp, pp)
    Elog = lambda: _E_logx(fp, pp)
    Elog2 = lambda: _E_log2x(fp, pp)
    Elog1m = lambda: _E_log1mx(fp, pp)
    if fq == "normal":
        # log q = -log s - log(2 pi)/2 - (x^2 - 2 mu x + mu^2) / (2 s^2)
        mu, s = qp
        Elq = -log(s) - log(2 * pi) / 2 - (Ex2() - 2 * mu * Ex() + mu**2) / (2 * s**2)
    elif fq == "lognormal":
        # log q = -log x - log s - log(2 pi)/2 - (log^2 x - 2 mu log x + mu^2)/(2 s^2)
        mu, s = qp
        Elq = (-Elog() - log(s) - log(2 * pi) / 2
               - (Elog2() - 2 * mu * Elog() + mu**2) / (2 * s**2))
    elif fq == "exponential":
        # log q = log r - r x
        (r,) = qp
        Elq = log(r) - r * Ex()
    elif fq == "gamma":
        # log q = k log r - lgamma(k) + (k - 1) log x - r x
        k, r = qp
        Elq = k * log(r) - loggamma(k) - r * Ex()
        if k != 1:
            Elq += (k - 1) * Elog()
    elif fq == "beta":
        # log q = (a - 1) log x + (b - 1) log(1 - x) - log B(a, b)
        a, b = qp
        Elq = -_logbeta(a, b)
        if a != 1:
            Elq += (a - 1) * Elog()
        if b != 1:
            Elq += (b - 1) * Elog1m()
    elif fq == "uniform":
        # log q = -log(high - low) on [low, high]
        l, h = qp
        Elq = -log(h - l)
    elif fq == "laplace":
        # log q = -log(2 b) - |x - m| / b
        m, b = qp
        Elq = -log(2 * b) - _E_abs(fp, pp, m) / b
    else:
        raise KeyError(fq)
    return -Elq


def _cont_entropy(fam, p):
    if fam == "normal":
        m, s = p
        return log(2 * pi * mpmath.e * s**2) / 2
    if fam == "lognormal":
        m, s = p
        return m + log(2 * pi * mpmath.e * s**2) / 2
    if fam == "exponential":
        (r,) = p
        return 1 - log(r)
    if fam == "gamma":
        k, r = p
        return k - log(r) + loggamma(k) + (1 - k) * digamma(k)
    if fam == "beta":
        a, b = p
        return (_logbeta(a, b) - (a - 1) * digamma(a) - (b - 1) * digamma(b)
                + (a + b - 2) * digamma(a + b))
    if fam == "uniform":
        l, h = p
        return log(h - l)
    if fam == "laplace":
        m, b = p
        return 1 + log(2 * b)
    raise KeyError(fam)


# ---------------------------------------------------------------------------
# discrete: expectations under P
# ---------------------------------------------------------------------------
def _disc_pmf(fam, p, k):
    """P(X = k), typed out (used for finite sums and P(k = i))."""
    if fam == "bernoulli":
        (q,) = p
        return q if k == 1 else (1 - q if k == 0 else mpf(0))
    if fam == "binomial":
        n, q = int(p[0]), p[1]
        if k < 0 or k > n:
            return mpf(0)
        return mpmath.binomial(n, k) * q**k * (1 - q) ** (n - k)
    if fam == "geometric":
        (q,) = p
        return q * (1 - q) ** k if k >= 0 else mpf(0)
    if fam == "poisson":
        (lam,) = p
        return exp(-lam) * lam**k / mpmath.factorial(k) if k >= 0 else mpf(0)
    if fam == "categorical":
        return p[k - 1] if 1 <= k <= 3 else mpf(0)
    raise KeyError(fam)


def _E_k(fam, p):
    if fam == "bernoulli":
        return p[0]
    if fam == "binomial":
        return int(p[0]) * p[1]
    if fam == "geometric":
        (q,) = p
        return (1 - q) / q
    if fam == "poisson":
        return p[0]
    if fam == "categorical":
        p1, p2, p3 = p
        return p1 + 2 * p2 + 3 * p3
    raise KeyError(fam)


def _E_logfact(fam, p):
    """E_P[log k!]."""
    if fam == "bernoulli":
        return mpf(0)  # log 0! = log 1! = 0
    if fam == "categorical":
        p1, p2, p3 = p
        return p2 * log(2) + p3 * log(6)
    if fam == "binomial":
        n = int(p[0])
        return mpmath.fsum(_disc_pmf(fam, p, k) * loggamma(k + 1) for k in range(2, n + 1))
    if fam == "geometric":
        (q,) = p
        if q == 1:
            return mpf(0)
        return mpmath.nsum(lambda k: q * (1 - q) ** k * loggamma(k + 1), [2, inf])
    if fam == "poisson":
        (lam,) = p
        return mpmath.nsum(lambda k: exp(-lam + k * log(lam) - loggamma(k + 1)) * loggamma(k + 1),
                           [2, inf])
    raise KeyError(fam)


def _E_logchoose(fam, p, n):
    """E_P[log C(n, k)]; only called when supp P is in {0..n}."""
    if fam == "bernoulli":
        return p[0] * log(n)
    if fam == "categorical":
        p1, p2, p3 = p
        tot = mpf(0)
        for i, pi_ in zip((1, 2, 3), (p1, p2, p3)):
            if pi_ != 0:
                tot += pi_ * _logchoose(n, i)
        return tot
    sp = _disc_support(fam, p)
    return mpmath.fsum(_disc_pmf(fam, p, k) * _logchoose(n, k) for k in sorted(sp))


def _disc_cross_entropy(fp, pp, fq, qp):
    if not support_ok(fp, pp, fq, qp):
        return inf
    Ek = _E_k(fp, pp)
    if fq == "bernoulli":
        # log q(k) = k log q + (1 - k) log(1 - q)
        (q,) = qp
        Elq = _xlogy(Ek, q) + _xlogy(1 - Ek, 1 - q)
    elif fq == "binomial":
        # log q(k) = log C(n, k) + k log q + (n - k) log(1 - q)
        n, q = int(qp[0]), qp[1]
        Elq = _E_logchoose(fp, pp, n) + _xlogy(Ek, q) + _xlogy(n - Ek, 1 - q)
    elif fq == "geometric":
        # log q(k) = log q + k log(1 - q)
        (q,) = qp
        Elq = log(q) + _xlogy(Ek, 1 - q)
    elif fq == "poisson":
        # log q(k) = k log lam - lam - log k!
        (lam,) = qp
        Elq = Ek * log(lam) - lam - _E_logfact(fp, pp)
    elif fq == "categorical":
        # log q(k) = sum_i [k = i] log q_i
        Elq = mpf(0)
        for i, qi in zip((1, 2, 3), qp):
            Elq += _xlogy(_disc_pmf(fp, pp, i), qi)
    else:
        raise KeyError(fq)
    return -Elq


def _disc_entropy(fam, p):
    if fam == "bernoulli":
        (q,) = p
        return -_xlogy(q, q) - _xlogy(1 - q, 1 - q)
    if fam == "binomial":
        n, q = int(p[0]), p[1]
        return -(_E_logchoose(fam, p, n) + _xlogy(n * q, q) + _xlogy(n * (1 - q), 1 - q))
    if fam == "geometric":
        (q,) = p
        return (-_xlogy(1 - q, 1 - q) - q * log(q)) / q
    if fam == "poisson":
        (lam,) = p
        return lam * (1 - log(lam)) + _E_logfact(fam, p)
    if fam == "categorical":
        return -mpmath.fsum(_xlogy(pi_, pi_) for pi_ in p)
    raise KeyError(fam)


# ---------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------
@_guarded
def entropy(fam, params):
    """H(P) in nats (textbook closed form; E[log k!] by nsum/finite sum)."""
    if fam in CONTINUOUS:
        return _cont_entropy(fam, params)
    return _disc_entropy(fam, params)


@_guarded
def cross_entropy(fp, pp, fq, qp):
    """H(P, Q) = -E_P[log q] in nats; mpmath.inf when supp P not in supp Q."""
    if (fp in CONTINUOUS) != (fq in CONTINUOUS):
        raise ValueError("continuous vs discrete pairs are out of scope")
    if fp in CONTINUOUS:
        return _cont_cross_entropy(fp, pp, fq, qp)
    return _disc_cross_entropy(fp, pp, fq, qp)


@_guarded
def kl(fp, pp, fq, qp):
    """KL(P||Q) = H(P, Q) - H(P) in nats; mpmath.inf when infinite."""
    ce = cross_entropy(fp, pp, fq, qp)
    if ce == inf:
        return inf
    return ce - entropy(fp, pp)


# ---------------------------------------------------------------------------
# second, independent reference: famous same-family KL closed forms
# ---------------------------------------------------------------------------
def _kl_normal(pp, qp):
    mp_, sp = pp
    mq, sq = qp
    return log(sq / sp) + (sp**2 + (mp_ - mq) ** 2) / (2 * sq**2) - mpf(1) / 2


def _kl_exponential(pp, qp):
    (lp,) = pp
    (lq,) = qp
    return log(lp / lq) + lq / lp - 1


def _kl_gamma(pp, qp):
    kp, rp = pp
    kq, rq = qp
    return ((kp - kq) * digamma(kp) - loggamma(kp) + loggamma(kq)
            + kq * (log(rp) - log(rq)) + kp * (rq - rp) / rp)


def _kl_beta(pp, qp):
    ap, bp = pp
    aq, bq = qp
    return (_logbeta(aq, bq) - _logbeta(ap, bp) + (ap - aq) * digamma(ap)
            + (bp - bq) * digamma(bp) + (aq - ap + bq - bp) * digamma(ap + bp))


def _kl_uniform(pp, qp):
    lp, hp = pp
    lq, hq = qp
    if lq <= lp and hp <= hq:
        return log((hq - lq) / (hp - lp))
    return inf


def _kl_laplace(pp, qp):
    mp_, bp = pp
    mq, bq = qp
    d = abs(mp_ - mq)
    return log(bq / bp) + d / bq + (bp / bq) * exp(-d / bp) - 1


def _kl_bernoulli(pp, qp):
    (p,) = pp
    (q,) = qp
    return _xlogx_over(p, q) + _xlogx_over(1 - p, 1 - q)


def _kl_binomial(pp, qp):
    n_p, p = int(pp[0]), pp[1]
    n_q, q = int(qp[0]), qp[1]
    if n_p != n_q:
        raise ValueError("closed form only for equal n")
    return n_p * _kl_bernoulli((p,), (q,))


def _kl_geometric(pp, qp):
    # failures before first success: E[k] = (1 - p)/p
    (p,) = pp
    (q,) = qp
    return log(p / q) + _xlogx_over(1 - p, 1 - q) / p


def _kl_poisson(pp, qp):
    (lp,) = pp
    (lq,) = qp
    return lp * log(lp / lq) - lp + lq


def _kl_categorical(pp, qp):
    return mpmath.fsum(_xlogx_over(a, b) for a, b in zip(pp, qp))


_KL_CLOSED = {
    "normal": _kl_normal,
    "lognormal": _kl_normal,  # KL is invariant under x -> log x
    "exponential": _kl_exponential,
    "gamma": _kl_gamma,
    "beta": _kl_beta,
    "uniform": _kl_uniform,
    "laplace": _kl_laplace,
    "bernoulli": _kl_bernoulli,
    "binomial": _kl_binomial,
    "geometric": _kl_geometric,
    "poisson": _kl_poisson,
    "categorical": _kl_categorical,
}


@_guarded
def kl_closed_form(fam, pp, qp):
    """Famous same-family KL(P||Q) closed form (second reference)."""
    return _KL_CLOSED[fam](pp, qp)


# ---------------------------------------------------------------------------
# parameter points: short decimal strings, exactly the spec's rationals
# ---------------------------------------------------------------------------
def _dec(rng, lo, hi):
    """A decimal string with two places, uniform on [lo, hi]."""
    n = rng.randint(int(round(lo * 100)), int(round(hi * 100)))
    return str(Decimal(n).scaleb(-2))


def random_params(fam, rng):
    """Random parameters of a family, as a tuple of short decimal strings
    (binomial's n as an integer string)."""
    if fam == "normal":
        return (_dec(rng, -2, 2), _dec(rng, 0.3, 2.5))
    if fam == "lognormal":
        return (_dec(rng, -1, 1), _dec(rng, 0.2, 1.5))
    if fam == "exponential":
        return (_dec(rng, 0.2, 3),)
    if fam == "gamma":
        return (_dec(rng, 0.4, 6), _dec(rng, 0.2, 3))
    if fam == "beta":
        return (_dec(rng, 0.4, 6), _dec(rng, 0.4, 6))
    if fam == "uniform":
        low = rng.randint(-150, 150)
        high = low + rng.randint(20, 300)
        return (str(Decimal(low).scaleb(-2)), str(Decimal(high).scaleb(-2)))
    if fam == "laplace":
        return (_dec(rng, -2, 2), _dec(rng, 0.2, 2))
    if fam == "bernoulli":
        return (_dec(rng, 0.02, 0.98),)
    if fam == "binomial":
        return (str(rng.randint(1, 12)), _dec(rng, 0.02, 0.98))
    if fam == "geometric":
        return (_dec(rng, 0.05, 0.95),)
    if fam == "poisson":
        return (_dec(rng, 0.2, 8),)
    if fam == "categorical":
        a = rng.randint(1, 98)
        b = rng.randint(1, 99 - a)
        c = 100 - a - b
        return tuple(str(Decimal(v).scaleb(-2)) for v in (a, b, c))
    raise KeyError(fam)


def pair_points(fp, fq, n, seed, tries=600):
    """n parameter points (pp, qp) for the pair, deterministic in seed.

    If both regimes (finite / infinite) occur among `tries` candidates, the
    points include at least one of each (the pair is "conditional").
    Returns (points, conditional)."""
    rng = random.Random(seed)
    fin, infl = [], []
    for _ in range(tries):
        pp = random_params(fp, rng)
        qp = random_params(fq, rng)
        (fin if support_ok(fp, pp, fq, qp) else infl).append((pp, qp))
        if len(fin) >= n and len(infl) >= n:
            break
    conditional = bool(fin) and bool(infl)
    if not conditional:
        return (fin or infl)[:n], False
    n_inf = max(1, n // 3) if n >= 2 else 0
    pts = fin[: n - n_inf] + infl[:n_inf]
    return pts, True


# boundary parameter values and shared support ends, (P, P params, Q, Q params)
BOUNDARY_CASES = [
    ("bernoulli", ("0",), "bernoulli", ("0.5",)),
    ("bernoulli", ("1",), "bernoulli", ("0.5",)),
    ("bernoulli", ("0.5",), "bernoulli", ("1",)),
    ("bernoulli", ("1",), "bernoulli", ("1",)),
    ("bernoulli", ("1",), "categorical", ("0.2", "0.3", "0.5")),
    ("bernoulli", ("0.3",), "binomial", ("4", "0.6")),
    ("binomial", ("3", "1"), "categorical", ("0.2", "0.3", "0.5")),
    ("binomial", ("3", "0"), "bernoulli", ("0.3",)),
    ("binomial", ("5", "0.4"), "binomial", ("5", "1")),
    ("geometric", ("1",), "binomial", ("4", "0.3")),
    ("geometric", ("1",), "geometric", ("0.4",)),
    ("geometric", ("0.4",), "geometric", ("1",)),
    ("categorical", ("0.5", "0.5", "0"), "binomial", ("2", "0.3")),
    ("categorical", ("0.5", "0.5", "0"), "categorical", ("0.4", "0.6", "0")),
    ("poisson", ("2.5",), "geometric", ("1",)),
    # continuous: supports sharing an end point (finite, measure zero)
    ("uniform", ("0", "1"), "uniform", ("0", "2")),
    ("uniform", ("0", "1"), "beta", ("2", "3")),
    ("uniform", ("0", "1"), "beta", ("0.5", "0.5")),
    ("uniform", ("0", "1.5"), "gamma", ("2", "1")),
    ("uniform", ("0", "1.5"), "lognormal", ("0", "1")),
    ("uniform", ("0", "2"), "exponential", ("1.5",)),
    ("uniform", ("-0.5", "1"), "gamma", ("2", "1")),
    ("uniform", ("0.2", "0.8"), "laplace", ("0.5", "1")),
    ("beta", ("2", "3"), "uniform", ("0", "1")),
    ("beta", ("0.5", "0.5"), "uniform", ("-0.1", "1")),
    ("beta", ("0.5", "0.5"), "uniform", ("0", "0.9")),
    ("exponential", ("1.3",), "gamma", ("1", "1.3")),
    ("gamma", ("1", "0.7"), "exponential", ("0.7",)),
    ("lognormal", ("0.2", "0.9"), "laplace", ("0", "1")),
    ("gamma", ("0.5", "2"), "laplace", ("-1", "0.5")),
]


DEFAULT_SEED = 20240611


def family_points(fam, n, seed=DEFAULT_SEED):
    """n random parameter tuples of a family (the points the tests use)."""
    import zlib

    rng = random.Random(zlib.crc32(fam.encode()) + seed)
    return [random_params(fam, rng) for _ in range(n)]


def points_for_pair(fp, fq, n, seed=DEFAULT_SEED):
    """pair_points seeded by the pair id "fp||fq" (the points the tests use)."""
    import zlib

    return pair_points(fp, fq, n, zlib.crc32(f"{fp}||{fq}".encode()) + seed)


def spec(fam, params):
    """The symkl spec string of a family at parameter values."""
    return f"{fam}({', '.join(params)})"
