"""symkl verify: claimed formulas and numbers judged against the derived result, with diagnoses."""
import pytest
import sympy as sp
from typer.testing import CliRunner

from symkl.cli import app

VAE = "-(1 + lv - mu_p**2 - exp(lv))/2"
CASES = [
    # (args, exit code, text that must appear)
    (["kl", "bernoulli(0.7)", "bernoulli(0.4)", "0.1526"], 1, "0.183786897387 nats"),
    (["kl", "bernoulli(0.7)", "bernoulli(0.4)", "0.1838"], 0, "EQUIVALENT"),
    (["kl", "bernoulli(0.7)", "bernoulli(0.4)", "0.2651", "--base", "2"], 0, "EQUIVALENT"),
    (["kl", "bernoulli(0.7)", "bernoulli(0.4)", "0.2651"], 1, "bits vs nats"),
    (["kl", "normal", "normal(0, 1)", VAE, "--where", "lv = log(sigma_p**2)"], 0, "proven"),
    (["kl", "normal", "normal(0, 1)", VAE, "--where", "lv = log(sigma_p)"], 1, "WRONG"),
    (["kl", "normal", "normal", "log(sigma_p/sigma_q) + (sigma_q**2 + (mu_q - mu_p)**2)/(2*sigma_p**2) - 1/2"], 1,
     "direction is swapped"),
    (["kl", "normal", "normal", "log(sigma_q/sigma_p) + (sigma_p**2 + (mu_p - mu_q)**2)/(2*sigma_q**2)"], 1,
     "additive constant is off: the claim is the result + 1/2"),
    (["kl", "normal", "normal", "log(sigma_q/sigma_p) + sigma_p**2/(2*sigma_q**2) - 1/2"], 1,
     "holds only when mu_q = mu_p"),
    # KL(Laplace(m_p, b_p) || Laplace(m_q, b_q)) = log(b_q/b_p) + |m_p - m_q|/b_q + (b_p/b_q) exp(-|m_p - m_q|/b_p) - 1;
    # without the log-ratio of the scales and the |m_p - m_q|/b_q term it is right only for equal locations AND
    # equal scales (each equality alone leaves a nonzero gap); with only the log-ratio, for equal locations alone
    (["kl", "laplace", "laplace", "(scale_p/scale_q)*exp(-abs(loc_p - loc_q)/scale_p) - 1"], 1,
     "holds only when loc_q = loc_p and scale_q = scale_p, that is only where P = Q"),
    (["kl", "laplace", "laplace", "log(scale_q/scale_p) + scale_p/scale_q - 1"], 1, "holds only when loc_q = loc_p\n"),
    # the normal KL with standard deviations where the variances belong: right only where P = Q
    (["kl", "normal", "normal", "log(sigma_q/sigma_p) + (sigma_p + (mu_p - mu_q)**2)/(2*sigma_q) - 1/2"], 1,
     "holds only when mu_q = mu_p and sigma_q = sigma_p"),
    (["kl", "exponential", "exponential", "2*(log(rate_p/rate_q) + rate_q/rate_p - 1)"], 1, "twice"),
    (["kl", "exponential", "exponential", "log(rate_p/rate_q) + rate_q/rate_p - 1"], 0, "EQUIVALENT"),
    (["entropy", "exponential", "1 - log(rate)"], 0, "EQUIVALENT"),
    (["entropy", "normal", "log(sigma) + 1/2 + log(2*pi)/2"], 0, "EQUIVALENT"),
    (["cross-entropy", "exponential", "gamma", "shape_q*log(rate_p/rate_q) + EulerGamma*shape_q + loggamma(shape_q)"
      " + rate_q/rate_p - log(rate_p) - EulerGamma"], 0, "EQUIVALENT"),
    (["expectation", "gamma", "x*log(x)", "shape/rate*(digamma(shape) - log(rate))"], 1, "WRONG"),
    (["expectation", "gamma", "x*log(x)", "shape/rate*(digamma(shape + 1) - log(rate))"], 0, "EQUIVALENT"),
    (["expectation", "normal", "x**2", "mu**2 + sigma**2"], 0, "EQUIVALENT"),
    (["expectation", "gamma", "foo(x)", "1"], 2, "not allowed"),
    (["kl", "normal", "normal", "foo + 1"], 2, "unknown name 'foo'"),
    (["kl", "normal", "normal", "__import__('os')"], 2, "error"),
    (["kl", "normal", "normal", "mu_p", "--where", "x"], 2, "--where needs the form"),
]


@pytest.mark.parametrize("args, code, text", CASES, ids=[" ".join(c[0])[:60] for c in CASES])
def test_verify(args, code, text):
    result = CliRunner().invoke(app, ["verify", *args])
    assert result.exit_code == code, result.output
    assert text in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("spec, f, expected", [
    ("normal(0, 1)", "x**4", 3), ("poisson(3)", "x**2", 12), ("exponential(2)", "x**3", sp.Rational(3, 4)),
    ("beta(2, 3)", "x", sp.Rational(2, 5)), ("bernoulli(0.3)", "x**5", sp.Rational(3, 10))])
def test_expect_gives_known_moments(spec, f, expected):
    from symkl.query import expectation
    assert sp.simplify(expectation(spec, f).expr - expected) == 0
