"""The ELBO identity log p(x) = ELBO + KL(q || p(z|x)) for the conjugate models, against textbook posteriors and
evidences typed here and against mpmath quadrature of densities written out in this file."""
from __future__ import annotations

import json
import os
import sys

import mpmath
import pytest
import sympy as sp

from symkl.family import FamilyError
from symkl.ml.elbo import elbo, model, values_point

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # any --import-mode
from test_cli import invoke

m0, x, m = sp.symbols("m0 x m", real=True)
s0, s, v = sp.symbols("s0 s v", positive=True)


@pytest.fixture(scope="module")
def normal_normal():
    return elbo("normal-normal")


@pytest.fixture(scope="module")
def beta_bernoulli():
    return elbo("beta-bernoulli")


def test_normal_normal_posterior_and_evidence_are_the_textbook_ones(normal_normal):
    e = normal_normal
    precision = 1 / s0**2 + 1 / s**2
    mean, sd = e.posterior
    assert sp.simplify(mean - (m0 / s0**2 + x / s**2) / precision) == 0
    assert sp.simplify(sd**2 - 1 / precision) == 0
    # x ~ normal(m0, sqrt(s0^2 + s^2)) marginally
    evidence = -(x - m0)**2 / (2 * (s0**2 + s**2)) - sp.log(2 * sp.pi * (s0**2 + s**2)) / 2
    assert sp.simplify(sp.expand_log(e.log_evidence - evidence, force=True)) == 0


def test_normal_normal_identity_and_maximiser(normal_normal):
    e = normal_normal
    assert e.identity == "proven"
    precision = 1 / s0**2 + 1 / s**2
    assert sp.simplify(e.maximiser[m] - (m0 / s0**2 + x / s**2) / precision) == 0
    assert sp.simplify(e.maximiser[v] - 1 / precision) == 0
    assert set(e.at_posterior.values()) == {"proven"}
    assert e.ok


def test_normal_normal_closed_forms_against_quadrature_typed_here(normal_normal):
    point = {m0: 0, s0: 1, s: sp.Rational(1, 2), x: sp.Rational(6, 5), m: sp.Rational(1, 3), v: sp.Rational(1, 4)}
    with mpmath.workdps(40):
        def log_normal(y, mean, sd):
            return -(y - mean)**2 / (2 * sd**2) - mpmath.log(sd) - mpmath.log(2 * mpmath.pi) / 2

        xv, qm, qs = mpmath.mpf(6) / 5, mpmath.mpf(1) / 3, mpmath.mpf(1) / 2

        def log_joint(z):
            return log_normal(z, 0, 1) + log_normal(xv, z, mpmath.mpf(1) / 2)
        evidence = mpmath.log(mpmath.quad(lambda z: mpmath.exp(log_joint(z)), [-mpmath.inf, 0, 1, mpmath.inf]))
        bound = mpmath.quad(lambda z: mpmath.exp(log_normal(z, qm, qs)) * (log_joint(z) - log_normal(z, qm, qs)),
                            [-mpmath.inf, 0, 1, mpmath.inf])
        assert abs(sp.N(normal_normal.log_evidence.subs(point), 40) - evidence) < 1e-35
        assert abs(sp.N(normal_normal.elbo.subs(point), 40) - bound) < 1e-35
        assert abs(sp.N(normal_normal.divergence.subs(point), 40) - (evidence - bound)) < 1e-35
    assert all(d >= 40 for c in normal_normal.checks for d in c.digits.values())


def test_beta_bernoulli_evidence_is_a_ratio_of_beta_functions(beta_bernoulli):
    a, b = sp.symbols("a b", positive=True)
    n, k = sp.Symbol("n", integer=True, positive=True), sp.Symbol("k", integer=True, nonnegative=True)
    e = beta_bernoulli
    assert [sp.simplify(p - q) for p, q in zip(e.posterior, (a + k, b + n - k))] == [0, 0]
    at = {a: 2, b: 3, n: 10, k: 7}
    with mpmath.workdps(40):
        typed = mpmath.log(mpmath.beta(9, 6)) - mpmath.log(mpmath.beta(2, 3))
        assert abs(sp.N(e.log_evidence.subs(at), 40) - typed) < 1e-35
    assert e.identity == "proven"


def test_beta_bernoulli_elbo_against_quadrature_and_maximum_at_the_posterior(beta_bernoulli):
    e = beta_bernoulli
    alpha, beta_ = sp.symbols("alpha beta", positive=True)
    a, b = sp.symbols("a b", positive=True)
    n, k = sp.Symbol("n", integer=True, positive=True), sp.Symbol("k", integer=True, nonnegative=True)
    at = {a: 2, b: 3, n: 10, k: 7, alpha: 3, beta_: 4}
    with mpmath.workdps(40):
        def log_beta_pdf(t, p, q):
            return (p - 1) * mpmath.log(t) + (q - 1) * mpmath.log(1 - t) - mpmath.log(mpmath.beta(p, q))

        def integrand(t):
            joint = log_beta_pdf(t, 2, 3) + 7 * mpmath.log(t) + 3 * mpmath.log(1 - t)
            return mpmath.exp(log_beta_pdf(t, 3, 4)) * (joint - log_beta_pdf(t, 3, 4))
        bound = mpmath.quad(integrand, [0, 0.5, 1])
        assert abs(sp.N(e.elbo.subs(at), 40) - bound) < 1e-30
    assert e.maximiser == {alpha: a + k, beta_: b - k + n}
    assert e.at_posterior["gradient at the posterior"] == "proven"
    assert e.at_posterior["KL at the posterior"] == "proven"
    assert e.at_posterior["numeric maximisation from q = prior reaches the posterior"] == "45 digits"
    assert e.ok


def test_a_single_observation_is_n_1():
    point = values_point(model("beta-bernoulli"), "n=1, k=1, a=1/2, b=1/2")
    e = elbo("beta-bernoulli", (point,))
    assert all(d >= 40 for d in e.checks[0].digits.values())


@pytest.mark.parametrize("text, message", [
    ("s0=-1", "s0 must be > 0"), ("x=oo", "finite real"), ("q=1", "name=value pairs"), ("s=abc", "s:"),
])
def test_bad_values_for_normal_normal(text, message):
    with pytest.raises(FamilyError, match=message):
        values_point(model("normal-normal"), text)


def test_bad_values_for_beta_bernoulli():
    with pytest.raises(FamilyError, match="k <= n"):
        values_point(model("beta-bernoulli"), "n=2, k=3")
    with pytest.raises(FamilyError, match="whole number"):
        values_point(model("beta-bernoulli"), "n=1.5")


@pytest.mark.slow   # over 8 s on the shared 2-core machine
def test_cli_elbo():
    out = invoke("elbo", "normal-normal")
    assert out.exit_code == 0 and "log p(x) = ELBO + KL: PROVEN" in out.output
    out = invoke("elbo", "beta-bernoulli", "--values", "a=1, b=1, n=1, k=0, alpha=2, beta=2", "--json")
    data = json.loads(out.stdout)
    assert out.exit_code == 0 and data["identity"] == "proven" and data["posterior"] == ["a + k", "b - k + n"]
    assert min(data["checks"][0]["digits"].values()) >= 40


@pytest.mark.parametrize("args, message", [
    (("gaussian-gaussian",), "unknown model"),
    (("normal-normal", "--values", "s0=-1"), "s0 must be > 0"),
    (("beta-bernoulli", "--values", "n=2, k=5"), "k <= n"),
])
def test_cli_elbo_bad_input_is_exit_2(args, message):
    out = invoke("elbo", *args)
    assert out.exit_code == 2 and message in out.output, out.output
