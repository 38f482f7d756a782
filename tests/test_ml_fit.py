"""Fitting Q to P by cross-entropy = by forward KL: the argmins against textbook moment matching typed here, and
against an independent mpmath/scipy minimisation of KL written in this file from the densities."""
from __future__ import annotations

import json
import math
import os
import sys

import mpmath
import pytest
import sympy as sp
from scipy.optimize import minimize

from symkl.ml.fit import FitError, fit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # any --import-mode
from test_cli import invoke

shape, rate, a, b = sp.symbols("shape_p rate_p a_p b_p", positive=True)
mu_q, sigma_q = sp.Symbol("mu_q", real=True), sp.Symbol("sigma_q", positive=True)


def same(x, y) -> bool:
    return sp.simplify(sp.sympify(x) - y) == 0


@pytest.mark.parametrize("p, q, expected", [
    # a normal fitted to a gamma: its mean shape/rate and standard deviation sqrt(shape)/rate
    ("gamma", "normal", {"mu_q": shape / rate, "sigma_q": sp.sqrt(shape) / rate}),
    # an exponential fitted to a gamma: the mean 1/rate_q = shape/rate
    ("gamma", "exponential", {"rate_q": rate / shape}),
    # a normal fitted to a beta: mean a/(a+b), variance ab/((a+b)^2 (a+b+1))
    ("beta", "normal", {"mu_q": a / (a + b), "sigma_q": sp.sqrt(a * b / ((a + b)**2 * (a + b + 1)))}),
])
def test_moment_matching_argmins(p, q, expected):
    f = fit(p, q)
    got = {str(k): v for k, v in f.argmin.items()}
    assert set(got) == set(expected)
    for name, value in expected.items():
        assert same(got[name], value), (name, got[name], value)
    assert f.identity == "proven" and f.same_gradient == "proven"
    assert f.second_order == "proven"
    assert all(g == 0 for g in sp.Matrix(f.steps[3].expr)), "d H(P)/d theta_q must be 0"
    assert f.checks and all(c.digits >= 40 for c in f.checks)
    assert f.status == "closed form"


def test_categorical_fit_is_p_itself_and_convexity_for_exponential_family():
    f = fit("categorical[3]", "categorical[3]")
    assert {str(k): str(v) for k, v in f.argmin.items()} == {"p1_q": "p1_p", "p2_q": "p2_p", "p3_q": "p3_p"}
    assert f.second_order == "proven"
    assert f.checks[0].digits >= 40
    assert "proven" in fit("gamma", "exponential").convexity


def test_poisson_fitted_to_binomial_with_a_shared_n():
    f = fit("binomial(n, _)", "poisson")
    (value,) = f.argmin.values()
    n_shared = sp.Symbol("n", positive=True, integer=True)
    assert same(value, n_shared * sp.Symbol("p_p", positive=True))


def test_gamma_to_gamma_has_no_solve_but_q_equals_p():
    f = fit("gamma", "gamma")
    assert "no closed form" in f.argmin_how
    assert [str(v) for v in f.argmin.values()] == ["shape_p", "rate_p"]
    assert all(c.digits >= 40 for c in f.checks)


def test_values_and_minimal_kl_against_independent_quadrature():
    f = fit("gamma(2, 3)", "normal")
    assert f.at_values == {mu_q: sp.Rational(2, 3), sigma_q: sp.sqrt(2) / 3}
    with mpmath.workdps(30):
        mu, s = mpmath.mpf(2) / 3, mpmath.sqrt(2) / 3

        def log_p(x):  # gamma(shape 2, rate 3), typed
            return 2 * mpmath.log(3) + mpmath.log(x) - 3 * x - mpmath.loggamma(2)

        def integrand(x):
            log_q = -(x - mu)**2 / (2 * s**2) - mpmath.log(s) - mpmath.log(2 * mpmath.pi) / 2
            return mpmath.exp(log_p(x)) * (log_p(x) - log_q)
        reference = mpmath.quad(integrand, [0, 1, 3, 10, mpmath.inf])
        assert abs(sp.N(f.minimum, 30) - reference) < mpmath.mpf(10) ** -25


@pytest.mark.slow   # over 8 s on the shared 2-core machine
def test_scipy_minimisation_of_quadrature_kl_finds_the_same_argmin():
    """Independent of symkl: minimise KL(gamma(2, 3) || normal(mu, sigma)) with scipy on a quadrature value."""
    from scipy.integrate import quad
    from scipy.stats import gamma as g
    from scipy.stats import norm

    def kl(params):
        mu, log_s = params
        return quad(lambda x: g.pdf(x, 2, scale=1 / 3) * (g.logpdf(x, 2, scale=1 / 3) -
                                                          norm.logpdf(x, mu, math.exp(log_s))), 0, 30,
                    epsabs=1e-12, limit=200)[0]
    res = minimize(kl, [1.0, 0.0], method="Nelder-Mead", options={"xatol": 1e-9, "fatol": 1e-14, "maxiter": 4000})
    f = fit("gamma(2, 3)", "normal")
    assert abs(res.x[0] - float(f.at_values[mu_q])) < 1e-5
    assert abs(math.exp(res.x[1]) - float(f.at_values[sigma_q])) < 1e-5


@pytest.mark.parametrize("p, q, message", [
    ("normal", "exponential", "infinite"),
    ("normal", "normal(0, 1)", "no free parameter"),
])
def test_fits_that_cannot_be_made(p, q, message):
    with pytest.raises(FitError, match=message):
        fit(p, q)


def test_cli_fit_prints_the_argmin_in_p_parameters_and_at_values():
    out = invoke("fit", "gamma", "normal")
    assert out.exit_code == 0 and "KL(P||Q) = H(P, Q) - H(P): proven" in out.output
    assert "argmin (closed form" in out.output and "agrees with the closed form to 50 digits" in out.output
    out = invoke("fit", "gamma(2, 3)", "normal", "--json")
    data = json.loads(out.stdout)
    assert out.exit_code == 0 and data["at_values"] == {"mu_q": "2/3", "sigma_q": "sqrt(2)/3"}
    assert data["status"] == "closed form" and data["checks"][0]["digits"] >= 40


@pytest.mark.parametrize("args, message", [
    (("gamm", "normal"), "unknown family 'gamm'"),
    (("normal(0, -1)", "normal"), "sigma must be > 0"),
    (("normal", "exponential"), "infinite"),
    (("normal", "normal(0, 1)"), "no free parameter"),
    (("gamma(", "normal"), "cannot read"),
])
def test_cli_fit_bad_input_is_exit_2(args, message):
    out = invoke("fit", *args)
    assert out.exit_code == 2 and message in out.output, out.output


def test_a_diagonal_gaussian_fitted_to_a_correlated_one_keeps_the_marginal_variances():
    """Forward KL, mean-field Gaussian Q: mu_q = mu_p, sigma_i^2 = Sigma_ii, and the minimal KL is the
    textbook 1/2 log(prod Sigma_ii / det Sigma) (here -1/2 log(1 - rho^2) with rho^2 = 1/8)."""
    f = fit("mvnormal([0, 1], [[1, 0.5], [0.5, 2]])", "diagnormal[2]")
    values = {str(k): v for k, v in f.at_values.items()}
    assert values == {"mu1_q": 0, "mu2_q": 1, "sigma1_q": 1, "sigma2_q": sp.sqrt(2)}
    assert sp.simplify(f.minimum - sp.log(sp.Rational(1 * 2) / (1 * 2 - sp.Rational(1, 4))) / 2) == 0
    out = invoke("fit", "mvnormal([0, 1], [[1, 0.5], [0.5, 2]])", "diagnormal[2]")
    assert out.exit_code == 0 and "numeric check: none for a multivariate family" in out.output, out.output
