"""KL unchanged by a bijection shared by P and Q (lognormal = exp(normal)): proven from the declarations, and a
declaration that is not the law of g(Y) is caught."""
import dataclasses

import mpmath
import sympy as sp

from symkl import prove
from symkl.families import lookup
from symkl.proof import invariance
from symkl.query import kl


def test_lognormal_pair_is_proven_equal_to_its_normal_pair():
    inv = prove("lognormal", "lognormal").invariance
    assert inv is not None and inv.status == "proven" and inv.base == "normal"
    assert inv.g == sp.exp(sp.Symbol("Y"))


def test_values_agree_with_the_base_pair_at_50_digits():
    a = kl("lognormal(1/3, 2)", "lognormal(-1, 1/2)").value(50)
    b = kl("normal(1/3, 2)", "normal(-1, 1/2)").value(50)
    with mpmath.workdps(50):
        assert abs(a - b) < mpmath.mpf(10) ** -48 and a > 1


def test_pairs_without_one_shared_bijection_have_none():
    normal, lognormal, gamma = lookup("normal"), lookup("lognormal"), lookup("gamma")
    assert invariance(normal, normal) is None
    assert invariance(lognormal, gamma) is None
    assert prove("lognormal", "gamma").invariance is None


def test_a_density_that_is_not_the_law_of_g_of_y_fails():
    """A family declaring lognormal's transformation with a wrong density (sigma doubled) does not pass."""
    lognormal = lookup("lognormal")
    wrong = dataclasses.replace(lognormal, name="wronglognormal", _fingerprint=[],
                                log_density=lambda x, mu, sigma: lognormal.log_density(x, mu, 2 * sigma))
    inv = invariance(wrong, lognormal)
    assert inv is not None and inv.status == "failed"
