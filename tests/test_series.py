"""series.numpy_sum: pmf-weighted series over many rows at once, against sums typed here in mpmath."""
import math

import numpy as np
from scipy import special

from symkl.series import MAX_TERMS, numpy_sum


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
