"""Limits at removable singularities (symkl/laurent.py) and the specializations that need them, against limits
and textbook values typed here."""
import mpmath
import pytest
import sympy as sp

from symkl.laurent import limit_at
from symkl.query import entropy, kl

x = sp.Symbol("x", real=True)


@pytest.mark.parametrize("expr, point, expected", [
    ((sp.exp(x) - 1 - x) / x**2, 0, sp.Rational(1, 2)),
    ((sp.log(1 + x) - x) / x**2, 0, sp.Rational(-1, 2)),
    (sp.atanh(2 * x - 1) / (2 * x - 1), sp.Rational(1, 2), 1),
    (x * sp.log(x), 0, 0),
    ((sp.sqrt(1 + x) - 1) / x, 0, sp.Rational(1, 2)),
    ((sp.loggamma(1 + x) + sp.EulerGamma * x) / x**2, 0, sp.pi**2 / 12),
])
def test_removable_singularities(expr, point, expected):
    for side in ("+", "-") if point != 0 or not expr.has(sp.log(x)) else ("+",):
        assert sp.simplify(limit_at(expr, x, point, side) - expected) == 0


@pytest.mark.parametrize("expr", [1 / x, sp.log(x), sp.sin(1 / x)])
def test_no_finite_limit_is_none(expr):
    assert limit_at(expr, x, 0, "+") is None


def test_a_free_symbol_is_left_to_the_caller():
    assert limit_at(sp.Symbol("a") * sp.sin(x) / x, x, 0, "+") is None


def test_continuousbernoulli_at_one_half_is_the_uniform():
    """At lam = 1/2 the continuous Bernoulli is uniform(0, 1): its entropy is 0, its KL to normal(1/3, 2) is
    E[(X - 1/3)^2]/8 + log(8 pi)/2 = 1/72 + log(8 pi)/2, and to laplace(0, 1) log(2) + E|X| = log(2) + 1/2. The
    derived forms read 0/0 there; before, the result was printed as nan after 20 s of sympy.limit."""
    for q, expected in [("normal(1/3, 2)", sp.Rational(1, 72) + sp.log(8 * sp.pi) / 2),
                        ("laplace(0, 1)", sp.log(2) + sp.Rational(1, 2))]:
        result = kl("continuousbernoulli(1/2)", q)
        assert result.expr is not None and sp.simplify(result.expr - expected) == 0, result.expr
    h = entropy("continuousbernoulli(1/2)")
    assert abs(h.value(30)) < mpmath.mpf(10) ** -25
