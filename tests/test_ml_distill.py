"""Distillation (symkl.ml.distill): the derived closed form and the float64 function against references written
here: the textbook formula typed in, and an mpmath evaluation of the definition at 1000 digits."""
from __future__ import annotations

import os

import mpmath
import numpy as np
import pytest
import sympy as sp

from symkl.ml.distill import derive, kl_softmax, kl_softmax_mpmath, kl_softmax_naive

TOLERANCE = 1e-12


def definition(teacher, student, temperature, dps: int = 1000) -> mpmath.mpf:
    """sum p_i log(p_i / q_i) with p, q the softmaxes, straight from the definition, at ``dps`` digits."""
    with mpmath.workdps(dps):
        t = mpmath.mpf(temperature)
        ep = [mpmath.exp(mpmath.mpf(z) / t) for z in teacher]
        eq = [mpmath.exp(mpmath.mpf(z) / t) for z in student]
        p = [e / mpmath.fsum(ep) for e in ep]
        q = [e / mpmath.fsum(eq) for e in eq]
        return +mpmath.fsum(a * mpmath.log(a / b) for a, b in zip(p, q))


def relative_error(ours: float, truth: mpmath.mpf) -> float:
    if abs(truth) < 1e-300:          # below float64's range: only an absolute error makes sense
        return float(abs(ours - truth))
    return float(abs(mpmath.mpf(ours) - truth) / truth)


@pytest.mark.parametrize("k", [2, 3, 4])
def test_closed_form_is_the_textbook_formula(k):
    d = derive(k)
    assert d.proof == "proven"
    t = d.temperature
    p = [sp.exp(a / t) / sp.Add(*[sp.exp(b / t) for b in d.teacher]) for a in d.teacher]
    textbook = (sp.Add(*[pi * (a - b) / t for pi, a, b in zip(p, d.teacher, d.student)])
                - sp.log(sp.Add(*[sp.exp(a / t) for a in d.teacher])) + sp.log(sp.Add(*[sp.exp(b / t) for b in d.student])))
    assert sp.simplify(d.expr.subs(d.softmax()) - textbook) == 0


def test_closed_form_at_exact_logits_against_the_definition():
    d = derive(3)
    for teacher, student, t in (((1, 2, 3), (1, 2, sp.Rational(5, 2)), 2), ((0, -3, 7), (5, 5, 5), sp.Rational(1, 3))):
        closed = sp.N(d.at(teacher, student, t), 50)
        with mpmath.workdps(60):
            assert abs(mpmath.mpf(sp.Float(closed, 50)._mpf_) - definition(teacher, student, t, 60)) < 1e-45


def test_naive_form_breaks_where_ours_is_accurate():
    teacher, student = np.array([1000.0, 0.0, -500.0]), np.array([0.0, 1000.0, 20.0])
    with np.errstate(all="ignore"):
        assert not np.isfinite(kl_softmax_naive(teacher, student))                  # exp(1000) = inf: inf/inf
        assert not np.isfinite(kl_softmax_naive([0.0, -1e4], [0.0, 1e4]))           # q underflows: log 0
    assert relative_error(float(kl_softmax(teacher, student)), definition(teacher, student, 1)) < TOLERANCE
    assert float(kl_softmax([1000.0, 0.0], [0.0, 1000.0])) == 1000.0


def test_near_equal_teacher_and_student_keep_relative_accuracy():
    rng = np.random.default_rng(3)
    teacher = rng.normal(size=10) * 3
    for d in (1e-3, 1e-6, 1e-9, 1e-12):
        student = teacher + d * rng.normal(size=10)
        truth = definition(teacher, student, 1.5)
        assert truth < d**2                                                          # KL ~ d^2: deep cancellation
        assert relative_error(float(kl_softmax(teacher, student, 1.5)), truth) < TOLERANCE
        with np.errstate(all="ignore"):
            naive = float(kl_softmax_naive(teacher, student, 1.5))
        if d <= 1e-6:
            assert not np.isfinite(naive) or relative_error(naive, truth) > 1e-3     # the naive form has no digits left


def grid(n: int, seed: int):
    """Random cases over the regimes: logits up to 1e4 apart, near-equal, scaled, shifted, unrelated."""
    rng = np.random.default_rng(seed)
    for _ in range(n):
        k, t = int(rng.choice([2, 3, 5, 10])), float(rng.choice([0.1, 0.5, 1.0, 2.0, 10.0]))
        scale, d = 10 ** rng.uniform(-3, 4), 10 ** rng.uniform(-12, -1)
        zt = rng.normal(size=k) * scale
        yield zt, rng.uniform(-1e4, 1e4, size=k), t
        yield zt, zt + d * rng.normal(size=k) * max(1.0, scale), t
        yield zt, zt * (1 + d), t
        yield zt, zt + 1000.0 + d * rng.normal(size=k), t


def test_accuracy_over_the_grid():
    worst = max(relative_error(float(kl_softmax(zt, zs, t)), definition(zt, zs, t)) for zt, zs, t in grid(10, 0))
    assert worst < TOLERANCE


@pytest.mark.slow
def test_accuracy_over_a_larger_grid():
    n = 20 * int(os.environ.get("SYMKL_SLOW_SIZE", "5"))
    worst = max(relative_error(float(kl_softmax(zt, zs, t)), definition(zt, zs, t)) for zt, zs, t in grid(n, 1))
    assert worst < TOLERANCE


def test_the_library_reference_agrees_with_the_definition_here():
    for zt, zs, t in list(grid(3, 2))[:8]:
        truth = definition(zt, zs, t)
        if abs(truth) > 1e-300:
            assert abs(kl_softmax_mpmath(zt, zs, t) - truth) <= abs(truth) * 1e-45


def test_vectorized_and_invalid_inputs():
    teacher = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    student = np.array([[1.0, 2.0, 2.5], [0.0, 0.0, 0.0]])
    out = kl_softmax(teacher, student, 2.0)
    assert out.shape == (2,) and out[1] == 0.0
    assert relative_error(float(out[0]), definition([1, 2, 3], [1, 2, 2.5], 2)) < TOLERANCE
    assert np.isnan(kl_softmax([1.0, 2.0], [1.0, 2.0], -1.0))
    assert np.isnan(kl_softmax([1.0, 2.0], [1.0, 2.0], 0.0))
    assert np.isnan(kl_softmax([1.0, np.nan], [1.0, 2.0]))
    assert np.isnan(kl_softmax([1.0, np.inf], [1.0, 2.0]))
    with pytest.raises(ValueError):
        derive(1)


def masked_definition(teacher, student, temperature, dps: int = 60) -> mpmath.mpf:
    """sum over the teacher's unmasked classes of p_i log(p_i/q_i), a -inf logit being a class of probability 0."""
    with mpmath.workdps(dps):
        t = mpmath.mpf(temperature)
        ep = [mpmath.mpf(0) if z == -np.inf else mpmath.exp(mpmath.mpf(z) / t) for z in teacher]
        eq = [mpmath.mpf(0) if z == -np.inf else mpmath.exp(mpmath.mpf(z) / t) for z in student]
        p = [e / mpmath.fsum(ep) for e in ep]
        q = [e / mpmath.fsum(eq) for e in eq]
        return +mpmath.fsum(a * mpmath.log(a / b) for a, b in zip(p, q) if a > 0)


def test_masked_classes_are_probability_zero():
    """-inf logits mask classes (top-k distillation, vocabulary masks): a class the teacher masks still counts in
    the student's normalizer; one the student masks where the teacher has mass makes KL infinite."""
    inf = np.inf
    cases = [([-inf, 1.0, 2.0], [0.0, 1.0, 3.0], 1.0), ([-inf, 1.0, 2.0], [-inf, 1.0, 3.0], 0.5),
             ([-inf, 1e4, 2.0, -inf], [5e3, 1.0, 3.0, -inf], 0.1), ([3.0, -inf, -1.0], [-2.0, 40.0, 1.0], 2.0)]
    for teacher, student, t in cases:
        truth = masked_definition(teacher, student, t)
        assert relative_error(float(kl_softmax(teacher, student, t)), truth) < TOLERANCE, (teacher, student)
    assert kl_softmax([0.0, 1.0, 2.0], [-inf, 1.0, 3.0]) == inf
    batch = kl_softmax([[-inf, 1.0, 2.0], [0.0, 1.0, 2.0]], [[0.0, 1.0, 3.0], [-inf, 1.0, 3.0]])
    assert np.isfinite(batch[0]) and batch[1] == inf
    assert np.isnan(kl_softmax([-inf, -inf], [0.0, 1.0]))                   # the teacher masks every class
