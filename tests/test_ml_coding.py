"""Coding length (symkl.ml.coding): KL in bits, Shannon and Huffman codes, the theorems they satisfy.

References are computed here by hand (mpmath sums typed in, textbook Huffman examples), never by symkl.
"""
from __future__ import annotations

import os
import random
from fractions import Fraction

import mpmath
import pytest
import sympy as sp

from symkl.family import FamilyError
from symkl.ml.coding import (
    canonical_code,
    coding,
    huffman_can_lose,
    huffman_lengths,
    kraft_sum,
    shannon_length,
)


def _mp(expr) -> mpmath.mpf:
    return mpmath.mpf(sp.Float(sp.N(expr, 60), 60)._mpf_)


def test_the_coin_07_coded_for_04_costs_kl_bits():
    c = coding("bernoulli(0.7)", "bernoulli(0.4)")
    with mpmath.workdps(50):
        by_hand = mpmath.mpf("0.7") * mpmath.log(mpmath.mpf(7) / 4, 2) + mpmath.mpf("0.3") * mpmath.log(
            mpmath.mpf(1) / 2, 2)
        assert abs(_mp(c.kl_bits) - by_hand) < mpmath.mpf(10) ** -45
        assert abs(_mp(c.cross_entropy - c.entropy_p) - by_hand) < mpmath.mpf(10) ** -45
    assert c.kl_catalog.startswith("proven")
    # q(0) = 3/5 -> ceil(0.737) = 1 bit, q(1) = 2/5 -> ceil(1.32) = 2 bits; Huffman on two symbols: 1 bit each
    assert [len(s.shannon) for s in c.symbols] == [1, 2]
    assert [len(s.huffman) for s in c.symbols] == [1, 1]
    assert c.shannon_p == sp.Rational(17, 10) and c.huffman_p == 1
    assert c.ok


def test_dyadic_q_meets_the_shannon_lower_bound_with_equality():
    c = coding("categorical(0.5, 0.25, 0.25)", "categorical(0.25, 0.25, 0.5)")
    assert c.kl_bits == sp.Rational(1, 4)          # 1/2 log2 2 + 1/4 log2 1 + 1/4 log2 1/2
    assert sp.nsimplify(c.entropy_p) == sp.Rational(3, 2)
    assert c.shannon_p == c.huffman_p == sp.Rational(7, 4)   # = H(P) + KL exactly
    assert [s.shannon for s in c.symbols] == ["10", "11", "0"]
    assert c.ok


@pytest.mark.parametrize("q, expected", [(sp.Rational(1, 4), 2), (sp.Rational(1, 4) + sp.Rational(1, 10**40), 2),
                                         (sp.Rational(1, 4) - sp.Rational(1, 10**40), 3), (sp.S.One, 0),
                                         (sp.sqrt(2) / 4, 2), (sp.Rational(2, 5), 2), (sp.Rational(1, 1000), 10)])
def test_shannon_length_is_exact_at_powers_of_two(q, expected):
    assert shannon_length(q) == expected


def test_huffman_on_the_textbook_example():
    # (0.4, 0.3, 0.2, 0.1): lengths 1, 2, 3, 3, expected length 1.9 bits (Cover & Thomas style example)
    weights = dict(enumerate(map(sp.Rational, ("0.4", "0.3", "0.2", "0.1"))))
    lengths = huffman_lengths(weights)
    assert sorted(lengths.values()) == [1, 2, 3, 3]
    assert sum(w * lengths[x] for x, w in weights.items()) == sp.Rational(19, 10)
    assert kraft_sum(lengths) == 1
    words = canonical_code(lengths)
    assert all(not b.startswith(a) for a in words.values() for b in words.values() if a != b)   # prefix-free


def test_huffman_for_q_can_be_longer_than_shannon_for_q_on_data_from_p():
    p, q, huffman, shannon = huffman_can_lose()
    assert huffman > shannon
    c = coding(p, q)
    assert [len(s.huffman) for s in c.symbols] == [1, 2, 3, 3]      # Q = (0.42, 0.28, 0.25, 0.05), no ties
    assert [len(s.shannon) for s in c.symbols] == [2, 2, 2, 5]
    assert huffman == Fraction(147, 50) and shannon == Fraction(103, 50)
    assert c.ok   # every theorem still holds: that comparison is not one of them


def test_random_pairs_satisfy_every_theorem_and_kl_matches_a_direct_sum():
    rng = random.Random(7)
    for _ in range(12):
        k = rng.randint(2, 7)
        p = [Fraction(rng.randint(1, 20)) for _ in range(k)]
        q = [Fraction(rng.randint(1, 20)) for _ in range(k)]
        p, q = [v / sum(p) for v in p], [v / sum(q) for v in q]
        c = coding(f"categorical({', '.join(map(str, p))})", f"categorical({', '.join(map(str, q))})")
        assert c.ok
        with mpmath.workdps(50):
            direct = mpmath.fsum(mpmath.mpf(a.numerator) / a.denominator * mpmath.log(
                (mpmath.mpf(a.numerator) / a.denominator) / (mpmath.mpf(b.numerator) / b.denominator), 2)
                for a, b in zip(p, q))
            assert abs(_mp(c.kl_bits) - direct) < mpmath.mpf(10) ** -45
        shannon = sum(a * _ceil_log2_inverse(b) for a, b in zip(p, q))
        assert c.shannon_p == sp.Rational(shannon.numerator, shannon.denominator)


def _ceil_log2_inverse(q: Fraction) -> int:
    """ceil(-log2 q) in integers: the least l with 2**l * q >= 1."""
    length = 0
    while 2**length * q < 1:
        length += 1
    return length


def test_binomial_pair_and_a_certain_outcome():
    c = coding("binomial(3, 0.5)", "binomial(3, 0.2)")
    assert len(c.symbols) == 4 and c.ok
    with mpmath.workdps(50):
        pmf = lambda n, k, r: mpmath.binomial(n, k) * r**k * (1 - r)**(n - k)
        direct = mpmath.fsum(pmf(3, k, mpmath.mpf(1) / 2) * mpmath.log(pmf(3, k, mpmath.mpf(1) / 2)
                                                                       / pmf(3, k, mpmath.mpf(1) / 5), 2)
                             for k in range(4))
        assert abs(_mp(c.kl_bits) - direct) < mpmath.mpf(10) ** -45
    one = coding("bernoulli(1)", "bernoulli(1)")
    assert one.kl_bits == 0 and [s.huffman for s in one.symbols] == [""] and one.ok


@pytest.mark.parametrize("p, q, fragment", [
    ("poisson(2)", "poisson(3)", "infinitely many outcomes"),
    ("bernoulli", "bernoulli(0.4)", "give every probability"),
    ("normal(0, 1)", "normal(0, 2)", "discrete"),
])
def test_refused_with_a_message(p, q, fragment):
    with pytest.raises(FamilyError, match=fragment):
        coding(p, q)


def test_an_outcome_q_gives_no_code_to_makes_the_excess_infinite():
    """q(3) = 0 where p(3) = 1/4: no codeword for 3, so every length on data from P and KL are oo, said plainly."""
    c = coding("categorical(0.5, 0.25, 0.25)", "categorical(0.5, 0.5, 0)")
    assert c.uncodable == (3,) and c.uncodable_mass == sp.Rational(1, 4)
    assert c.kl_bits is sp.oo and c.cross_entropy is sp.oo and c.shannon_p is sp.oo and c.huffman_p is sp.oo
    assert c.entropy_p == sp.Rational(3, 2)                      # H(P) stays finite: 1/2*1 + 2*(1/4*2)
    assert [s.huffman for s in c.symbols] == ["0", "1", None] and c.symbols[2].ideal_q is sp.oo
    assert c.kl_catalog.startswith("proven") and c.ok
    assert c.to_json()["kl_bits"]["bits"] == "inf"
    # the other way round nothing is missing: P = (1/2, 1/2, 0) coded for Q = (1/2, 1/4, 1/4) costs 1/2 bit
    assert coding("categorical(0.5, 0.5, 0)", "categorical(0.5, 0.25, 0.25)").kl_bits == sp.Rational(1, 2)


def test_a_tiny_probability_is_decided_exactly():
    """q = 1e-300: Shannon length ceil(300 log2 10) = 997, and E_Q[L_Shannon] < H(Q) + 1 by only ~2e-300."""
    c = coding("bernoulli(0.7)", "bernoulli(1e-300)")
    assert [len(s.shannon) for s in c.symbols] == [1, 997] and c.ok
    with mpmath.workdps(400):
        q = mpmath.mpf(10) ** -300
        h_q = -(q * mpmath.log(q, 2) + (1 - q) * mpmath.log(1 - q, 2))
        gap = h_q + 1 - ((1 - q) * 1 + q * 997)
        assert 0 < gap < mpmath.mpf(10) ** -299
        assert abs(_mp(c.entropy_q) - h_q) < mpmath.mpf(10) ** -50


@pytest.mark.slow
def test_64_symbols():
    """K = 64 (the largest categorical declared; SYMKL_SLOW_SIZE for fewer), with a zero in Q: lengths, Kraft and the KL against a direct sum."""
    rng = random.Random(3)
    k = min(max(int(os.environ.get("SYMKL_SLOW_SIZE", "64")), 8), 64)   # K = SYMKL_SLOW_SIZE, 8 to 64
    p = [Fraction(rng.randint(1, 9)) for _ in range(k)]
    q = [Fraction(rng.randint(1, 9)) for _ in range(k)]
    p, q = [v / sum(p) for v in p], [v / sum(q) for v in q]
    c = coding(f"categorical({', '.join(map(str, p))})", f"categorical({', '.join(map(str, q))})")
    assert c.ok and len(c.symbols) == k
    assert [len(s.shannon) for s in c.symbols] == [_ceil_log2_inverse(b) for b in q]
    with mpmath.workdps(50):
        direct = mpmath.fsum(mpmath.mpf(a.numerator) / a.denominator * mpmath.log(
            (mpmath.mpf(a.numerator) * b.denominator) / (mpmath.mpf(a.denominator) * b.numerator), 2) for a, b in zip(p, q))
        assert abs(_mp(c.kl_bits) - direct) < mpmath.mpf(10) ** -45
    q_zero = [Fraction(0)] + [v / (1 - q[0]) for v in q[1:]]
    c = coding(f"categorical({', '.join(map(str, p))})", f"categorical({', '.join(map(str, q_zero))})")
    assert c.uncodable == (1,) and c.kl_bits is sp.oo and c.ok
