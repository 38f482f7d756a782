"""Integrals that diverge in a tail: P with heavy tails against Q with light ones. A quadrature value there would
be a number from wherever the nodes stopped (6e33 nats for a Cauchy P against a normal Q); symkl says oo, and
says 0 for tails that converge, however slowly. Heavy-tailed P are written as custom densities here, so the test
does not depend on which families the catalog declares."""
import mpmath
import pytest
import sympy as sp

from symkl.custom import density_family
from symkl.quadrature import tail_divergence
from symkl.query import kl
from symkl.spec import instance

CAUCHY = density_family("1/(pi*(1 + x**2))", "(-oo, oo)")  # E|X| = oo
PARETO = density_family("a/x**(a + 1)", "[1, oo)", assume="a > 0")  # E[X] finite only for a > 1


def family(label):
    return instance(label).family


@pytest.mark.parametrize("q, q_values", [("normal", (0, 1)), ("laplace", (0, 1)), ("normal", (3, 10))])
def test_cauchy_against_light_tails_diverges(q, q_values):
    values = tuple(map(sp.Integer, q_values))
    assert tail_divergence("kl", CAUCHY, (), family(q), values) == 1
    assert tail_divergence("cross_entropy", CAUCHY, (), family(q), values) == 1


def test_convergent_tails_are_not_divergent():
    half = sp.Rational(1, 2)
    assert tail_divergence("kl", family("normal"), (0, 1), family("laplace"), (half, 2)) == 0
    assert tail_divergence("kl", family("gamma"), (half, 3), family("normal"), (1, 2)) == 0
    assert tail_divergence("kl", family("lognormal"), (0, 2), family("gamma"), (2, 3)) == 0
    assert tail_divergence("entropy", CAUCHY, (), None, ()) == 0  # log(pi (1 + x^2)) / x^2 converges


@pytest.mark.parametrize("a, diverges", [(sp.Rational(1, 2), True), (1, True), (sp.Rational(3, 2), False),
                                         (sp.Rational(11, 10), False)])
def test_pareto_against_exponential_needs_a_mean(a, diverges):
    """-log q of exponential(1) is x: the cross-entropy is E[X], finite exactly when a > 1 (a = 1.1: the tail
    shrinks by 10^-0.1 a decade, still convergent)."""
    assert tail_divergence("cross_entropy", PARETO, (sp.sympify(a),), family("exponential"), (sp.Integer(1),)) \
        == (1 if diverges else 0)


def test_the_value_is_oo_not_a_number():
    value = kl(density_family("1/(pi*(1 + x**2))", "(-oo, oo)"), "normal(0, 1)").value(30)
    assert value == mpmath.inf

