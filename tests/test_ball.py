"""symkl.ball: integrands in arb balls, against the same textbook functions evaluated by mpmath directly."""
import mpmath
import sympy as sp

from symkl.ball import weighted

x = sp.Symbol("x", positive=True)


def test_a_weighted_integrand_matches_mpmath_to_the_working_precision():
    """gamma(37/10, rate 2)'s density times log p - log q against gamma(5/2, rate 7/10), at 70 digits: written out
    here with mpmath's own loggamma, exp and log."""
    a, b, c, d = sp.Rational(37, 10), sp.Integer(2), sp.Rational(5, 2), sp.Rational(7, 10)
    log_p = a * sp.log(b) - sp.loggamma(a) + (a - 1) * sp.log(x) - b * x
    log_q = c * sp.log(d) - sp.loggamma(c) + (c - 1) * sp.log(x) - d * x
    g = weighted(x, sp.exp(sp.N(log_p, 70)), sp.N(log_p - log_q, 70), 70)
    with mpmath.workdps(70):
        A, B, C, D = mpmath.mpf(37) / 10, mpmath.mpf(2), mpmath.mpf(5) / 2, mpmath.mpf(7) / 10
        for t in (mpmath.mpf(1) / 1000, mpmath.mpf(3) / 7, mpmath.mpf(25)):
            lp = A * mpmath.log(B) - mpmath.loggamma(A) + (A - 1) * mpmath.log(t) - B * t
            lq = C * mpmath.log(D) - mpmath.loggamma(C) + (C - 1) * mpmath.log(t) - D * t
            reference = mpmath.exp(lp) * (lp - lq)
            assert abs(g(t) / reference - 1) < mpmath.mpf(10) ** -66, (t, g(t), reference)


def test_the_precision_is_the_integrands_not_the_callers():
    """exp(x) - 1 - x at x = 1e-20 is x^2/2 = 5e-41; at the caller's 15 digits it cancels to -1e-20. Computed at
    the integrand's 70 digits it is right, then rounded to the caller's precision: the quadrature's nodes may run
    at fewer digits than the integrand's own cancellations need."""
    g = weighted(x, sp.Integer(1), sp.exp(x) - 1 - x, 70)
    with mpmath.workdps(15):
        t = mpmath.mpf(10) ** -20
        value = g(t)
        assert abs(value / (t**2 / 2 + t**3 / 6) - 1) < 1e-14, value


def test_a_zero_weight_and_a_non_finite_product_give_zero():
    """exp(-1e7) is 0 (below the exp bound), and log(0) at a node rounded onto the support end is not finite:
    both nodes contribute 0, as in the mpmath evaluation (quadrature._product)."""
    assert weighted(x, sp.exp(-10**7 * x), sp.log(x), 30)(mpmath.mpf(1)) == 0
    assert weighted(x, sp.exp(-x), sp.log(x), 30)(mpmath.mpf(0)) == 0


def test_functions_arb_is_not_given_are_left_to_mpmath():
    """A Bessel function of x or a Piecewise: None, so the caller falls back to mpmath."""
    assert weighted(x, sp.exp(-x), sp.besseli(0, x), 30) is None
    assert weighted(x, sp.exp(-x), sp.Piecewise((x, x < 1), (1, True)), 30) is None


def test_pi_and_euler_in_an_integrand_are_arb_constants():
    """exp(pi*x + euler) * x: mpmath's pi times an arb had come out an mpf, whose .exp is its exponent (an int),
    and the whole book's proof of a pair stopped on "'int' object is not callable"."""
    g = weighted(x, sp.exp(-x), sp.exp(sp.pi * x + sp.EulerGamma) * x, 50)
    with mpmath.workdps(50):
        for t in (mpmath.mpf(1) / 3, mpmath.mpf(5)):
            reference = mpmath.exp(-t) * mpmath.exp(mpmath.pi * t + mpmath.euler) * t
            assert abs(g(t) / reference - 1) < mpmath.mpf(10) ** -45, (t, g(t), reference)
