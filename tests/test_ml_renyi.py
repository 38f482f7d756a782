"""Rényi and Jeffreys divergences (symkl.ml.renyi) against textbook formulas typed here and mpmath quadrature or
summation of p^alpha q^(1 - alpha) written here from the densities."""
from __future__ import annotations

import mpmath
import pytest
import sympy as sp

from symkl.family import FamilyError
from symkl.ml.renyi import check_renyi, derive, jeffreys, renyi
from symkl.spec import instance

mu_p, mu_q = sp.symbols("mu_p mu_q", real=True)
s, t, a = sp.symbols("sigma_p sigma_q alpha", positive=True)
lp, lq = sp.symbols("rate_p rate_q", positive=True)
pp, pq = sp.symbols("p_p p_q", positive=True)


def zero(expr) -> bool:
    return sp.simplify(sp.expand(sp.expand_log(expr, force=True))) == 0


def at_points(expr, reference, points) -> bool:
    return all(abs(sp.N((expr - reference).subs(pt), 40)) < 1e-35 for pt in points)


def test_normal_against_the_textbook_formula():
    var_a = a * t**2 + (1 - a) * s**2
    textbook = a * (mu_p - mu_q)**2 / (2 * var_a) - sp.log(var_a / (s**(2 * (1 - a)) * t**(2 * a))) / (2 * (a - 1))
    d = renyi("normal", "normal")
    points = [{mu_p: 0, mu_q: 1, s: 1, t: 2, a: sp.Rational(1, 2)}, {mu_p: -1, mu_q: 3, s: 2, t: 1, a: sp.Rational(3, 2)},
              {mu_p: 2, mu_q: 2, s: sp.Rational(1, 3), t: 5, a: 3}]
    assert at_points(d.expr, textbook, points)
    # finite when alpha sigma_q^2 + (1 - alpha) sigma_p^2 > 0
    assert d.condition.subs({s: 2, t: 1, a: 3}) is sp.false and d.condition.subs({s: 1, t: 2, a: 3}) is sp.true
    assert renyi("normal(0, 2)", "normal(1, 1)", 3).expr == sp.oo


def test_exponential_poisson_bernoulli_against_textbook_formulas():
    rate_a = a * lp + (1 - a) * lq
    assert zero(renyi("exponential", "exponential").expr - sp.log(lp**a * lq**(1 - a) / rate_a) / (a - 1))
    assert at_points(renyi("poisson", "poisson").expr, (a * lp + (1 - a) * lq - lp**a * lq**(1 - a)) / (1 - a),
                     [{lp: 2, lq: 5, a: 2}, {lp: sp.Rational(1, 3), lq: 7, a: sp.Rational(1, 4)}])
    textbook = sp.log(pp**a * pq**(1 - a) + (1 - pp)**a * (1 - pq)**(1 - a)) / (a - 1)
    assert at_points(renyi("bernoulli", "bernoulli").expr, textbook,
                     [{pp: sp.Rational(7, 10), pq: sp.Rational(2, 5), a: sp.Rational(1, 2)},
                      {pp: sp.Rational(1, 10), pq: sp.Rational(9, 10), a: 5}])


def density_integral(p_log, q_log, alpha, points):
    with mpmath.workdps(60):
        return mpmath.log(mpmath.quad(lambda x: mpmath.exp(alpha * p_log(x) + (1 - alpha) * q_log(x)), points)) / (
            alpha - 1)


def normal_log(m, sd):
    return lambda x: -(x - m)**2 / (2 * sd**2) - mpmath.log(sd) - mpmath.log(2 * mpmath.pi) / 2


def gamma_log(k, r):
    return lambda x: k * mpmath.log(r) + (k - 1) * mpmath.log(x) - r * x - mpmath.loggamma(k)


CASES = [  # (P, Q, alpha, reference by quadrature or summation written here)
    ("normal(0, 1)", "normal(1, 2)", "1/2",
     lambda: density_integral(normal_log(0, 1), normal_log(1, 2), mpmath.mpf(1) / 2, [-mpmath.inf, 0, 1, mpmath.inf])),
    ("normal(0, 1)", "normal(1, 2)", "3",
     lambda: density_integral(normal_log(0, 1), normal_log(1, 2), mpmath.mpf(3), [-mpmath.inf, 0, 1, mpmath.inf])),
    ("exponential(2)", "exponential(3)", "2",
     lambda: density_integral(lambda x: mpmath.log(2) - 2 * x, lambda x: mpmath.log(3) - 3 * x, mpmath.mpf(2),
                              [0, 1, mpmath.inf])),
    ("gamma(2, 3)", "gamma(3, 1)", "1/2",
     lambda: density_integral(gamma_log(2, 3), gamma_log(3, 1), mpmath.mpf(1) / 2, [0, 1, 4, mpmath.inf])),
    ("poisson(2)", "poisson(5)", "2",
     lambda: mpmath.log(mpmath.nsum(lambda k: mpmath.exp(2 * (k * mpmath.log(2) - 2) - (k * mpmath.log(5) - 5)
                                                        - mpmath.loggamma(k + 1)), [0, mpmath.inf]))),
    ("bernoulli(0.7)", "bernoulli(0.4)", "1/2",
     lambda: -2 * mpmath.log(mpmath.sqrt(mpmath.mpf(7) / 10 * mpmath.mpf(4) / 10)
                             + mpmath.sqrt(mpmath.mpf(3) / 10 * mpmath.mpf(6) / 10))),
]


@pytest.mark.parametrize("p, q, alpha, reference", CASES, ids=[c[0].split("(")[0] + "-" + c[2] for c in CASES])
def test_values_against_quadrature_written_here(p, q, alpha, reference):
    with mpmath.workdps(60):
        expected = reference()
        got = renyi(p, q, alpha).value(50)
        assert abs(got - expected) <= abs(expected) * mpmath.mpf(10) ** -40


@pytest.mark.parametrize("p, q, alpha", [("beta(2, 3)", "beta(4, 3/2)", "1/2"), ("lognormal(0, 1)", "lognormal(1, 2)",
                                                                                 "0.3"),
                                         ("geometric(0.6)", "geometric(0.3)", "2"),
                                         ("categorical(0.5, 0.3, 0.2)", "categorical(0.2, 0.3, 0.5)", "2")])
def test_library_check_reaches_40_digits(p, q, alpha):
    assert check_renyi(p, q, alpha) >= 40


@pytest.mark.parametrize("family", ["normal", "exponential", "gamma", "poisson", "bernoulli", "categorical[3]"])
def test_alpha_to_one_gives_the_catalogs_kl(family):
    (check,) = derive(instance(family).family).checks
    assert check.startswith("alpha -> 1 gives KL(P||Q):") and "FAILED" not in check
    # and numerically: D at alpha = 1 - 1e-25 is KL to ~25 digits
    from symkl import kl
    pairs = {"normal": ("normal(0, 1)", "normal(1, 2)"), "exponential": ("exponential(2)", "exponential(3)"),
             "gamma": ("gamma(2, 3)", "gamma(3, 1)"), "poisson": ("poisson(2)", "poisson(5)"),
             "bernoulli": ("bernoulli(0.7)", "bernoulli(0.4)"),
             "categorical[3]": ("categorical(0.5, 0.3, 0.2)", "categorical(0.2, 0.3, 0.5)")}
    p, q = pairs[family]
    near = renyi(p, q, 1 - sp.Rational(1, 10**25)).value(60)
    assert abs(near - kl(p, q).value(60)) < mpmath.mpf(10) ** -20


@pytest.mark.parametrize("alpha, fragment", [(1, "limit"), (0, "> 0"), (-1, "> 0"), ("oo", "finite"),
                                             ("x", "number")])
def test_orders_where_it_is_undefined_are_refused(alpha, fragment):
    with pytest.raises(ValueError, match=fragment):
        renyi("normal", "normal", alpha)


def test_families_without_a_route_are_refused():
    with pytest.raises(FamilyError, match="exponential-family"):
        renyi("laplace", "laplace", "1/2")
    with pytest.raises(FamilyError, match="one family"):
        renyi("normal", "exponential", "1/2")
    with pytest.raises(FamilyError, match="share n"):
        renyi("binomial(3, 0.5)", "binomial(4, 0.5)", "1/2")


def test_jeffreys_normal_and_bernoulli():
    d = mu_p - mu_q
    textbook = (s**2 + d**2) / (2 * t**2) + (t**2 + d**2) / (2 * s**2) - 1
    assert zero(jeffreys("normal", "normal").expr - textbook)
    with mpmath.workdps(50):
        p, q = mpmath.mpf(7) / 10, mpmath.mpf(4) / 10
        by_hand = (p - q) * mpmath.log(p / q) + ((1 - p) - (1 - q)) * mpmath.log((1 - p) / (1 - q))
        assert abs(jeffreys("bernoulli(0.7)", "bernoulli(0.4)").value(50) - by_hand) < mpmath.mpf(10) ** -45


def test_jeffreys_of_a_mixed_pair_is_symmetric():
    forward, backward = jeffreys("normal(0, 1)", "laplace(1, 2)"), jeffreys("laplace(1, 2)", "normal(0, 1)")
    assert abs(forward.value(40) - backward.value(40)) < mpmath.mpf(10) ** -35
    assert jeffreys("normal", "exponential").expr == sp.oo


def test_every_exponential_family_of_the_catalog_is_covered():
    """Read from the catalog when the test runs: a family declared later with an exponential-family form is in,
    multivariate ones (dirichlet) too."""
    from symkl import families
    from symkl.ml.renyi import supported
    covered = {f.label for f in supported()}
    exponential = {f.label for f in families() if f.exp_family is not None and not f.exp_family.fixed_stats
                   and not isinstance(f.dim, sp.Symbol)}
    assert exponential <= covered
    assert {"categorical[3]", "dirichlet[3]"} <= covered and "laplace" not in covered


def test_a_form_that_holds_only_at_fixed_parameters_is_refused():
    """studentt's T(x) = log(1 + ((x - loc)/scale)^2/df) moves with df: P and Q with different df share no
    statistic, so the log-partition formula would be wrong (it was off by 7e-4 from KL at alpha -> 1)."""
    with pytest.raises(FamilyError, match="fixed statistics"):
        renyi("studentt", "studentt", "1/2")


def test_dirichlet_against_the_multivariate_beta_formula():
    """D_alpha(Dir(a)||Dir(b)) = (log B(alpha a + (1 - alpha) b) - alpha log B(a) - (1 - alpha) log B(b))/(alpha - 1),
    log B(v) = sum log Gamma(v_i) - log Gamma(sum v_i), typed here."""
    def log_b(v):
        return sum(mpmath.loggamma(x) for x in v) - mpmath.loggamma(sum(v))
    with mpmath.workdps(50):
        a, b = [mpmath.mpf(1), 2, 3], [mpmath.mpf(2), 2, mpmath.mpf(1) / 2]
        for alpha in (mpmath.mpf(1) / 2, mpmath.mpf(3) / 2):
            mix = [alpha * x + (1 - alpha) * y for x, y in zip(a, b)]
            textbook = (log_b(mix) - alpha * log_b(a) - (1 - alpha) * log_b(b)) / (alpha - 1)
            got = renyi("dirichlet(1, 2, 3)", "dirichlet(2, 2, 1/2)", str(sp.nsimplify(float(alpha)))).value(50)
            assert abs(got - textbook) < mpmath.mpf(10) ** -45 * abs(textbook)


def _catalog_families():
    from symkl.ml.renyi import supported
    return [f.label for f in supported()]


@pytest.mark.slow
@pytest.mark.parametrize("family", _catalog_families())
def test_alpha_to_one_for_every_covered_family(family):
    """Each covered catalog family: the derived alpha -> 1 limit is the catalog's KL (proven, or numerically)."""
    (check,) = derive(instance(family).family).checks
    assert check.startswith("alpha -> 1 gives KL(P||Q):") and "FAILED" not in check, check


def test_a_zero_of_q_where_p_has_mass_is_infinite_above_order_one():
    """q(1) = 0 < p(1): sum p^alpha q^(1 - alpha) is oo for alpha > 1, and sqrt(1/2 * 1) for alpha = 1/2."""
    assert renyi("bernoulli(0.5)", "bernoulli(0)", 2).expr is sp.oo
    assert renyi("categorical(0.5, 0.5, 0)", "categorical(0.5, 0, 0.5)", 3).expr is sp.oo
    half = renyi("bernoulli(0.5)", "bernoulli(0)", sp.Rational(1, 2)).expr
    assert sp.simplify(half - sp.log(1 / sp.sqrt(2)) / (sp.Rational(1, 2) - 1)) == 0
