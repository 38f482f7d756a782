"""series.numpy_sum: pmf-weighted series over many rows at once, against sums typed here in mpmath."""
import math

import mpmath
import numpy as np
import pytest
from scipy import special

from symkl.series import MAX_TERMS, mpmath_sum, numpy_sum


def _terms(rates, k):
    """Poisson(rate)'s pmf at k times log k!, in float64 (its rounding is the same on both sides of a test)."""
    return np.exp(-rates + k * np.log(rates) - special.gammaln(k + 1)) * special.gammaln(k + 1)


def _poisson_log_factorial(rates):
    """E[log K!] under Poisson(rate) per row, through numpy_sum's interface."""
    rates = np.asarray(rates, dtype=float)

    def params(expand, rows):
        return rates[rows, None] if rows is not None else rates[..., None] if expand else rates

    def log_size(k, expand=False, rows=None):
        lam = params(expand, rows)
        return -lam + k * np.log(lam) - special.gammaln(k + 1) + np.log(np.maximum(special.gammaln(k + 1), 1e-300))

    def term(k, expand=False, rows=None):
        return _terms(params(expand, rows), k)
    return numpy_sum(term, np.zeros_like(rates), np.inf, log_size)


def _reference(rate):
    """The same float terms summed exactly (math.fsum), from k = 0 to far past the bulk."""
    k = np.arange(0, int(rate + 60 * rate ** 0.5 + 60), dtype=float)
    return math.fsum(_terms(np.float64(rate), k))


def test_rows_of_very_different_lengths_are_summed_to_float_precision():
    """Rates 0.5 to 1e6: the longest rows need thousands of terms each side of the largest, in blocks."""
    rates = [0.5, 3.0, 250.0, 1e4, 1e6]
    got = _poisson_log_factorial(rates)
    for value, rate in zip(got, rates):
        assert abs(value / _reference(rate) - 1) < 1e-14, (rate, value)


def test_a_row_that_cannot_end_within_max_terms_is_nan_and_the_others_are_not():
    """Poisson(1e13): its bulk is 3e6 terms wide, past MAX_TERMS on each side of the largest."""
    assert (1e13) ** 0.5 * 5 > MAX_TERMS
    got = _poisson_log_factorial([1e13, 7.0])
    assert np.isnan(got[0]) and abs(got[1] / _reference(7.0) - 1) < 1e-13


def _mpmath_poisson_mass(rate, max_terms):
    """Poisson(rate)'s total mass through mpmath_sum: exactly 1."""
    rate = mpmath.mpf(rate)
    return mpmath_sum(lambda k: mpmath.exp(-rate + k * mpmath.log(rate) - mpmath.loggamma(k + 1)), 0, mpmath.inf,
                      max_terms)


def test_mpmath_sum_stops_at_a_count_of_terms_not_a_time():
    """A series is summed or refused by how many terms it needs on a side of its largest, the same on any machine:
    Poisson(1e6)'s bulk (sd 1000) needs thousands of terms each side at 50 digits, Poisson(100)'s under 400."""
    with mpmath.workdps(50):
        assert abs(_mpmath_poisson_mass(100, 400) - 1) < mpmath.mpf(10) ** -45
        with pytest.raises(ValueError, match="more than 400 terms"):
            _mpmath_poisson_mass(10**6, 400)
        # log(1e6!) ~ 1.3e7 takes 8 of the 50 digits from each term
        assert abs(_mpmath_poisson_mass(10**6, 20000) - 1) < mpmath.mpf(10) ** -40


def test_a_reference_value_needing_too_long_a_series_is_left_out():
    """The accuracy measurement's 60-digit references: a point whose series is past TRUTH_MAX_TERMS has none (it is
    left out of the figures, not counted as exact), a nearby ordinary point has one, equal to the textbook sum."""
    from symkl.numeric import TRUTH_MAX_TERMS, _truth
    from symkl.query import kl
    r = kl("poisson", "geometric")
    assert (1e10) ** 0.5 * 5 > TRUTH_MAX_TERMS
    far, near = _truth(r.expr, r.symbols, [(1e10, 0.5), (4.0, 0.5)], r.domains())
    assert far is None
    # KL(Poisson(4) || Geometric(1/2) on 0, 1, ...) = sum_k pmf(k) (log pmf(k) - k log(1/2) - log(1/2))
    with mpmath.workdps(60):
        lam, half = mpmath.mpf(4), mpmath.mpf(1) / 2
        textbook = mpmath.nsum(lambda k: mpmath.exp(-lam) * lam**k / mpmath.factorial(k)
                               * (-lam + k * mpmath.log(lam) - mpmath.loggamma(k + 1) - (k + 1) * mpmath.log(half)),
                               [0, mpmath.inf])
        assert abs(near - textbook) < mpmath.mpf(10) ** -50
