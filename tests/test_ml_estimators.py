"""KL estimators k1, k2, k3 (symkl.ml.estimators) against textbook formulas typed here and mpmath quadrature or
summation written here from the densities."""
from __future__ import annotations

import os

import mpmath
import pytest
import sympy as sp

from symkl.family import FamilyError
from symkl.ml.estimators import check_estimators, estimators

mu_p, mu_q = sp.symbols("mu_p mu_q", real=True)
s, t = sp.symbols("sigma_p sigma_q", positive=True)
D = mu_p - mu_q
NORMAL_KL = sp.log(t / s) + (s**2 + D**2) / (2 * t**2) - sp.Rational(1, 2)
# log p/q at x = mu_p + s z is c + a z^2 + b z with a = (s^2/t^2 - 1)/2, b = D s/t^2: Var = 2 a^2 + b^2
NORMAL_VAR_LOG_RATIO = (s**2 / t**2 - 1)**2 / 2 + D**2 * s**2 / t**4
GRAD_KL = (D / t**2, s / t**2 - 1 / s)                       # d/dmu_p, d/dsigma_p of KL(P||Q)
GRAD_REVERSE_KL = (D / s**2, 1 / s - (t**2 + D**2) / s**3)   # of KL(Q||P) = log(s/t) + (t^2 + D^2)/(2 s^2) - 1/2


def zero(expr) -> bool:
    return sp.simplify(sp.expand(sp.expand_log(expr, force=True))) == 0


@pytest.fixture(scope="module")
def normal():
    return estimators("normal", "normal")


def test_normal_means_and_biases(normal):
    k1, k2, k3 = normal.rows
    assert zero(normal.kl - NORMAL_KL)
    assert zero(k1.mean - NORMAL_KL) and k1.bias == 0 and k1.unbiased.startswith("yes")
    assert zero(k3.mean - NORMAL_KL) and k3.bias == 0 and k3.unbiased.startswith("yes")
    # E[(log r)^2]/2 = (Var[log r] + KL^2)/2: biased upward by (Var + KL^2)/2 - KL
    assert zero(k2.mean - (NORMAL_VAR_LOG_RATIO + NORMAL_KL**2) / 2)
    assert zero(k2.bias - ((NORMAL_VAR_LOG_RATIO + NORMAL_KL**2) / 2 - NORMAL_KL))
    assert k2.unbiased.startswith("no")


def test_normal_variances(normal):
    k1, _, k3 = normal.rows
    assert zero(k1.variance - NORMAL_VAR_LOG_RATIO)
    finite, condition = k3.variance.args[0]
    assert k3.variance.args[-1][0] == sp.oo
    # E_P[r^2] = integral of q^2/p is finite only for sigma_q^2 < 2 sigma_p^2
    assert condition.subs({s: 1, t: sp.Rational(14, 10)}) is sp.true
    assert condition.subs({s: 1, t: sp.Rational(15, 10)}) is sp.false
    assert quadrature_variance_k3(0, 1, sp.Rational(1, 2), sp.Rational(6, 5)) == pytest.approx(
        float(finite.subs({mu_p: 0, s: 1, mu_q: sp.Rational(1, 2), t: sp.Rational(6, 5)})), rel=1e-25)


def quadrature_variance_k3(mp_, sp_, mq, sq) -> mpmath.mpf:
    """Var_P[(r - 1) - log r] by mpmath quadrature of the normal densities written here."""
    with mpmath.workdps(40):
        mp_, sp_, mq, sq = (mpmath.mpf(sp.Float(v, 40)._mpf_) for v in map(sp.S, (mp_, sp_, mq, sq)))
        logn = lambda x, m, sd: -(x - m)**2 / (2 * sd**2) - mpmath.log(sd) - mpmath.log(2 * mpmath.pi) / 2
        k3 = lambda x: mpmath.expm1(logn(x, mq, sq) - logn(x, mp_, sp_)) - (logn(x, mq, sq) - logn(x, mp_, sp_))
        moment = lambda j: mpmath.quad(lambda x: mpmath.exp(logn(x, mp_, sp_)) * k3(x)**j,
                                       [-mpmath.inf, mp_ - 8 * sp_, mp_, mp_ + 8 * sp_, mpmath.inf])
        return moment(2) - moment(1)**2


def test_normal_gradients(normal):
    k1, k2, k3 = normal.rows
    assert all(zero(a - b) for a, b in zip(normal.kl_gradient, GRAD_KL))
    assert k1.gradient == (0, 0)                                       # the score has mean zero
    assert all(zero(a - b) for a, b in zip(k2.gradient, GRAD_KL))      # k2's gradient is KL(P||Q)'s
    assert all(zero(a - b) for a, b in zip(k3.gradient, GRAD_REVERSE_KL))   # k3's is KL(Q||P)'s
    assert [e.gradient_matches.split()[0] for e in normal.rows] == ["no", "yes", "no"]
    assert [e.reverse_matches.split()[0] for e in normal.rows] == ["no", "no", "yes"]


P3, Q3 = ((1, 2), (3, 10), (1, 5)), ((1, 5), (3, 10), (1, 2))


def test_categorical_at_values_against_sums_written_here():
    e = estimators("categorical(0.5, 0.3, 0.2)", "categorical(0.2, 0.3, 0.5)")
    k1, k2, k3 = e.rows
    with mpmath.workdps(50):
        p3, q3 = ([mpmath.mpf(a) / b for a, b in v] for v in (P3, Q3))
        lr = [mpmath.log(q / p) for p, q in zip(p3, q3)]                 # log r at each outcome
        kl = -mpmath.fsum(p * v for p, v in zip(p3, lr))
        close = lambda expr, ref: abs(mpmath.mpf(sp.Float(sp.N(expr, 50), 50)._mpf_) - ref) < 1e-45
        assert close(e.kl, kl) and close(k1.mean, kl) and close(k3.mean, kl)
        assert close(k2.mean, mpmath.fsum(p * v**2 / 2 for p, v in zip(p3, lr)))
        assert close(k1.variance, mpmath.fsum(p * v**2 for p, v in zip(p3, lr)) - kl**2)
        k3s = [mpmath.expm1(v) - v for v in lr]
        assert close(k3.variance, mpmath.fsum(p * k**2 for p, k in zip(p3, k3s)) - kl**2)
        # logits theta, p = softmax(theta): grad KL = p (log p/q - KL), E[grad k3] = p - q, E[grad k1] = 0
        for j in range(3):
            assert close(e.kl_gradient[j], p3[j] * (-lr[j] - kl))
            assert close(k2.gradient[j], p3[j] * (-lr[j] - kl))
            assert close(k3.gradient[j], p3[j] - q3[j])
            assert k1.gradient[j] == 0


def test_check_against_mpmath_at_50_digits_categorical():
    checks = check_estimators("categorical(0.5, 0.3, 0.2)", "categorical(0.2, 0.3, 0.5)")
    assert len(checks) == 18 and min(d for _, d in checks) >= 40


@pytest.mark.slow
def test_check_against_mpmath_at_50_digits_normal():
    points = [("normal(0, 1)", "normal(1/2, 6/5)"), ("normal(1, 2)", "normal(-1, 5/2)")]
    for p, q in points[:max(1, int(os.environ.get("SYMKL_SLOW_SIZE", "2")) // 2)]:
        checks = check_estimators(p, q)
        assert len(checks) == 14 and min(d for _, d in checks) >= 40


def test_other_exponential_families_follow():
    for fam in ("exponential", "poisson"):
        e = estimators(fam, fam)
        assert [r.unbiased.split()[0] for r in e.rows] == ["yes", "no", "yes"]
        assert [r.gradient_matches.split()[0] for r in e.rows] == ["no", "yes", "no"]


@pytest.mark.parametrize("p, q, fragment", [("normal", "exponential", "one family"),
                                            ("categorical(1, 0)", "categorical(0.5, 0.5)", "strictly between")])
def test_refused(p, q, fragment):
    with pytest.raises(FamilyError, match=fragment):
        estimators(p, q)
