"""Mixtures as P or Q: the value against mpmath quadrature and summation written out here from textbook densities,
the closed-form bounds around it, infinite cases, bad input on the command line."""
import json

import mpmath
import pytest
from typer.testing import CliRunner

from symkl.cli import app
from symkl.family import FamilyError
from symkl.mixture import divergence, is_mixture

runner = CliRunner()


def normal_pdf(x, mu, sigma):
    return mpmath.exp(-(x - mu) ** 2 / (2 * sigma**2)) / (sigma * mpmath.sqrt(2 * mpmath.pi))


def poisson_pmf(k, rate):
    return mpmath.exp(k * mpmath.log(rate) - rate - mpmath.loggamma(k + 1))


def mix(*terms):
    """sum_i w_i f_i(x), each weight an exact fraction evaluated at the working precision."""
    from fractions import Fraction
    return lambda x: mpmath.fsum(mpmath.mpf(Fraction(w).numerator) / Fraction(w).denominator * f(x)
                                 for w, f in terms)


def kl_by_quadrature(p, q):
    with mpmath.workdps(40):
        return mpmath.quad(lambda x: p(x) * mpmath.log(p(x) / q(x)), [-mpmath.inf, -5, 0, 5, mpmath.inf])


CASES = [
    ("0.5*normal(-1, 1) + 0.5*normal(1, 1)", "normal(0, 2)",
     mix((0.5, lambda x: normal_pdf(x, -1, 1)), (0.5, lambda x: normal_pdf(x, 1, 1))),
     lambda x: normal_pdf(x, 0, 2)),
    ("0.3*normal(0, 1) + 0.7*normal(2, 1/2)", "0.5*normal(0, 1) + 0.5*normal(2, 1)",
     mix(("3/10", lambda x: normal_pdf(x, 0, 1)), ("7/10", lambda x: normal_pdf(x, 2, 0.5))),
     mix((0.5, lambda x: normal_pdf(x, 0, 1)), (0.5, lambda x: normal_pdf(x, 2, 1)))),
    ("normal(0, 1)", "0.25*normal(-1, 1) + 0.75*normal(1, 1)",
     lambda x: normal_pdf(x, 0, 1),
     mix(("1/4", lambda x: normal_pdf(x, -1, 1)), ("3/4", lambda x: normal_pdf(x, 1, 1)))),
]


@pytest.mark.parametrize("p, q, p_pdf, q_pdf", CASES, ids=["mix-normal", "mix-mix", "normal-mix"])
def test_kl_of_normal_mixtures_against_quadrature_and_within_bounds(p, q, p_pdf, q_pdf):
    r = divergence("kl", p, q)
    truth = kl_by_quadrature(p_pdf, q_pdf)
    with mpmath.workdps(40):
        assert abs(r.value - truth) < mpmath.mpf(10) ** -25 * abs(truth)
    assert r.agreement >= 25
    assert r.lower is not None and r.upper is not None
    assert 0 <= r.lower <= r.value <= r.upper


def test_poisson_mixture_by_summation():
    r = divergence("kl", "0.5*poisson(2) + 0.5*poisson(5)", "poisson(3)")
    with mpmath.workdps(40):
        p = mix((0.5, lambda k: poisson_pmf(k, 2)), (0.5, lambda k: poisson_pmf(k, 5)))
        truth = mpmath.nsum(lambda k: p(k) * mpmath.log(p(k) / poisson_pmf(k, 3)), [0, mpmath.inf])
        assert abs(r.value - truth) < mpmath.mpf(10) ** -25 * truth
    assert r.lower <= r.value <= r.upper


def test_entropy_of_a_mixture_between_its_bounds():
    r = divergence("entropy", "0.5*normal(-3, 1) + 0.5*normal(3, 1)")
    with mpmath.workdps(40):
        p = mix((0.5, lambda x: normal_pdf(x, -3, 1)), (0.5, lambda x: normal_pdf(x, 3, 1)))
        truth = -mpmath.quad(lambda x: p(x) * mpmath.log(p(x)), [-mpmath.inf, -3, 0, 3, mpmath.inf])
        assert abs(r.value - truth) < mpmath.mpf(10) ** -25
        # sum_i w_i H(P_i) <= H(P) <= that + H(w): the textbook entropy of a unit normal, log 2 for the weights
        low = mpmath.log(2 * mpmath.pi * mpmath.e) / 2
        assert abs(r.lower - low) < 1e-25 and abs(r.upper - (low + mpmath.log(2))) < 1e-25


def test_paired_components_give_a_tight_upper_bound():
    """Equal weights and components: the value and the chain-rule bound are both 0."""
    r = divergence("kl", "0.4*normal(0, 1) + 0.6*gamma(2, 1)", "0.6*gamma(2, 1) + 0.4*normal(0, 1)")
    assert abs(r.value) < 1e-25 and abs(r.upper) < 1e-25


def test_infinite_where_p_has_mass_outside_q():
    r = divergence("kl", "normal(0, 1)", "0.5*gamma(2, 1) + 0.5*exponential(1)")
    assert mpmath.isinf(r.value) and r.lower is None


def test_bits():
    nats, bits = (divergence("kl", "0.5*normal(-1, 1) + 0.5*normal(1, 1)", "normal(0, 2)", base=b) for b in "e2")
    with mpmath.workdps(40):
        assert abs(bits.value - nats.value / mpmath.log(2)) < 1e-25


@pytest.mark.parametrize("text, message", [
    ("0.5*normal(0, 1) + 0.6*normal(1, 1)", "sum to"),
    ("0.5*normal(0, 1) + 0.5*normal(1, _)", "give every parameter"),
    ("-0.5*normal(0, 1) + 1.5*normal(1, 1)", "positive"),
    ("0.5*normal(0, 1) + 0.5*poisson(2)", "all discrete or all continuous"),
])
def test_bad_mixtures(text, message):
    with pytest.raises(FamilyError, match=message):
        divergence("kl", text, "normal(0, 1)")


def test_is_mixture():
    assert is_mixture("0.5*normal(0, 1) + 0.5*normal(1, 1)")
    assert not is_mixture("normal(0, 1)") and not is_mixture("normal")


def test_cli_mixture_text_json_and_errors():
    out = runner.invoke(app, ["kl", "0.5*normal(-1, 1) + 0.5*normal(1, 1)", "normal(0, 2)"])
    assert out.exit_code == 0 and "no closed form" in out.output and "<= value <=" in out.output
    out = runner.invoke(app, ["cross-entropy", "0.5*normal(-1, 1) + 0.5*normal(1, 1)", "normal(0, 2)", "--json"])
    record = json.loads(out.output)
    assert out.exit_code == 0 and record["quantity"] == "cross_entropy"
    assert float(record["lower"]) <= float(record["value"]) <= float(record["upper"])
    out = runner.invoke(app, ["entropy", "0.5*normal(-1, 1) + 0.7*normal(1, 1)"])
    assert out.exit_code == 2 and "sum to" in out.output and "Traceback" not in out.output
