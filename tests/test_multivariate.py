"""Multivariate families: dirichlet[K], diagnormal[d], mvnormal[d] and the general-d mvnormal in matrix symbols.

Every expected value comes from a textbook formula typed here (mpmath linear algebra at 50 digits, numpy for
float64), never from symkl: the Dirichlet KL and entropy through digamma, the normal KL through trace, quadratic
form and log-determinant, and the VAE term 1/2 sum(sigma^2 + mu^2 - 1 - log sigma^2).
"""
from __future__ import annotations

import json
import re

import mpmath
import numpy as np
import pytest
import sympy as sp
from scipy.integrate import dblquad
from sympy.parsing.sympy_parser import parse_expr
from typer.testing import CliRunner

from symkl import cross_entropy, entropy, family, kl
from symkl.check import check
from symkl.cli import app
from symkl.family import FamilyError
from symkl.spec import instance

R = sp.Rational
DIGITS = 30
runner = CliRunner()


def mp(v):
    """An exact or 50-digit sympy number as a 60-digit mpmath number."""
    if isinstance(v, mpmath.mpf):
        return v
    with mpmath.workdps(60):
        return +mpmath.mpf(sp.Float(v, 60)._mpf_)


def close(got, want, digits=DIGITS):
    with mpmath.workdps(60):
        assert abs(got - want) <= mpmath.mpf(10) ** -digits * max(1, abs(want)), (got, want)


# ---------------------------------------------------------------- textbook references

def dirichlet_kl(a, b):
    """KL(Dir(a)||Dir(b)) = lnG(a0) - sum lnG(a_i) - lnG(b0) + sum lnG(b_i) + sum (a_i - b_i)(psi(a_i) - psi(a0))."""
    with mpmath.workdps(60):
        a, b = [mp(v) for v in a], [mp(v) for v in b]
        a0, b0 = sum(a), sum(b)
        return (mpmath.loggamma(a0) - sum(map(mpmath.loggamma, a)) - mpmath.loggamma(b0)
                + sum(map(mpmath.loggamma, b))
                + sum((ai - bi) * (mpmath.digamma(ai) - mpmath.digamma(a0)) for ai, bi in zip(a, b)))


def dirichlet_entropy(a):
    """H = ln B(a) + (a0 - K) psi(a0) - sum (a_i - 1) psi(a_i)."""
    with mpmath.workdps(60):
        a = [mp(v) for v in a]
        a0 = sum(a)
        log_b = sum(map(mpmath.loggamma, a)) - mpmath.loggamma(a0)
        return log_b + (a0 - len(a)) * mpmath.digamma(a0) - sum((ai - 1) * mpmath.digamma(ai) for ai in a)


def dirichlet_cross_entropy(a, b):
    """H(P, Q) = ln B(b) - sum (b_i - 1)(psi(a_i) - psi(a0))."""
    with mpmath.workdps(60):
        a, b = [mp(v) for v in a], [mp(v) for v in b]
        a0 = sum(a)
        log_b = sum(map(mpmath.loggamma, b)) - mpmath.loggamma(sum(b))
        return log_b - sum((bi - 1) * (mpmath.digamma(ai) - mpmath.digamma(a0)) for ai, bi in zip(a, b))


def normal_kl(mu_p, cov_p, mu_q, cov_q):
    """KL = 1/2 (tr(Sq^-1 Sp) + (mq - mp)^T Sq^-1 (mq - mp) - d + ln det Sq - ln det Sp), mpmath matrices."""
    with mpmath.workdps(60):
        sp_, sq = mpmath.matrix([[mp(v) for v in row] for row in cov_p]), mpmath.matrix(
            [[mp(v) for v in row] for row in cov_q])
        diff = mpmath.matrix([mp(b) - mp(a) for a, b in zip(mu_p, mu_q)])
        inv_q = mpmath.inverse(sq)
        trace = sum((inv_q * sp_)[i, i] for i in range(len(mu_p)))
        quad = (diff.T * inv_q * diff)[0, 0]
        return (trace + quad - len(mu_p) + mpmath.log(mpmath.det(sq)) - mpmath.log(mpmath.det(sp_))) / 2


def normal_entropy(cov):
    """H = d/2 (1 + ln 2 pi) + 1/2 ln det S."""
    with mpmath.workdps(60):
        d = len(cov)
        return d * (1 + mpmath.log(2 * mpmath.pi)) / 2 + mpmath.log(mpmath.det(mpmath.matrix(
            [[mp(v) for v in row] for row in cov]))) / 2


def normal_cross_entropy(mu_p, cov_p, mu_q, cov_q):
    """H(P, Q) = KL + H(P) written out: 1/2 (d ln 2 pi + ln det Sq + tr(Sq^-1 Sp) + (mq - mp)^T Sq^-1 (mq - mp))."""
    with mpmath.workdps(60):
        sp_, sq = (mpmath.matrix([[mp(v) for v in row] for row in c]) for c in (cov_p, cov_q))
        diff = mpmath.matrix([mp(b) - mp(a) for a, b in zip(mu_p, mu_q)])
        inv_q = mpmath.inverse(sq)
        trace = sum((inv_q * sp_)[i, i] for i in range(len(mu_p)))
        return (len(mu_p) * mpmath.log(2 * mpmath.pi) + mpmath.log(mpmath.det(sq)) + trace
                + (diff.T * inv_q * diff)[0, 0]) / 2


def vae_term(mu, sigma):
    """KL(N(mu, diag sigma^2) || N(0, I)) = 1/2 sum(sigma_i^2 + mu_i^2 - 1 - log sigma_i^2)."""
    return sum(s**2 + m**2 - 1 - sp.log(s**2) for m, s in zip(mu, sigma)) / 2


def spec(name, *arrays):
    """A spec string with lists: spec('mvnormal', [0, 0], [[1, 0], [0, 1]])."""
    return f"{name}({', '.join(map(str, arrays))})"


def diag(sigmas):
    return [[s**2 if i == j else 0 for j in range(len(sigmas))] for i, s in enumerate(sigmas)]


# ---------------------------------------------------------------- Dirichlet

DIRICHLET_POINTS = [((R(3, 2), 2, R(5, 2)), (1, 3, R(1, 2))), ((R(1, 10), 7, R(33, 10)), (2, 2, 2)),
                    ((1, 1), (R(1, 2), R(5, 2))), ((R(9, 4), R(1, 3), 5, 12), (1, 1, 1, 1))]


@pytest.mark.parametrize("a, b", DIRICHLET_POINTS)
def test_dirichlet_kl_entropy_cross_entropy_at_values(a, b):
    p, q = spec("dirichlet", *a), spec("dirichlet", *b)
    close(kl(p, q).value(50), dirichlet_kl(a, b))
    close(entropy(p).value(50), dirichlet_entropy(a))
    close(cross_entropy(p, q).value(50), dirichlet_cross_entropy(a, b))


def test_dirichlet_symbolic_kl_is_the_textbook_formula():
    r = kl("dirichlet[3]", "dirichlet[3]")
    assert [s.name for s in r.symbols] == ["alpha1_p", "alpha2_p", "alpha3_p", "alpha1_q", "alpha2_q", "alpha3_q"]
    assert r.expr.has(sp.polygamma) and r.expr.has(sp.loggamma) and r.status == "closed"
    for a, b in DIRICHLET_POINTS[:2]:
        close(sp.N(r.expr.subs(dict(zip(r.symbols, (*a, *b)))), 50), dirichlet_kl(a, b))


def test_dirichlet_lists_and_flat_values_are_the_same_spec():
    flat, listed, sized = instance("dirichlet(1, 2, 3)"), instance("dirichlet([1, 2, 3])"), \
        instance("dirichlet[3](alpha=[1, 2, 3])")
    assert flat == listed == sized
    assert flat.family.label == "dirichlet[3]" and flat.label == "dirichlet([1, 2, 3])"


# ---------------------------------------------------------------- diagonal normal and the VAE term

def test_vae_term_from_the_command_line():
    result = runner.invoke(app, ["kl", "diagnormal[2]", "diagnormal(0, 0, 1, 1)", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["symbols"] == ["mu1_p", "mu2_p", "sigma1_p", "sigma2_p"]
    mu = sp.symbols("mu1_p mu2_p", real=True)
    sigma = sp.symbols("sigma1_p sigma2_p", positive=True)
    derived = parse_expr(out["expr"], local_dict={s.name: s for s in (*mu, *sigma)})
    assert sp.simplify(sp.expand_log(derived - vae_term(mu, sigma), force=True)) == 0
    for point in [(R(1, 3), -2, R(1, 2), 3), (0, 0, 1, 1), (R(-7, 2), R(11, 10), R(1, 100), R(9, 4))]:
        values = dict(zip((*mu, *sigma), point))
        close(mp(sp.N(derived.subs(values), 50)), mp(sp.N(vae_term(mu, sigma).subs(values), 50)))


@pytest.mark.parametrize("d", [1, 3])
def test_vae_term_in_other_dimensions(d):
    mu, sigma = [R(i, 3) - 1 for i in range(d)], [R(2 * i + 1, 4) for i in range(d)]
    r = kl(spec("diagnormal", mu, sigma), f"diagnormal({', '.join(['0'] * d + ['1'] * d)})")
    close(r.value(50), mp(sp.N(vae_term(mu, sigma), 50)))


@pytest.mark.parametrize("mu_p, s_p, mu_q, s_q", [
    ([0, 1], [1, 2], [R(1, 2), -1], [3, R(1, 2)]),
    ([R(-3, 2), 0, 2], [R(1, 10), 1, 4], [0, 0, 0], [1, R(7, 5), 2]),
])
def test_diagnormal_is_the_normal_with_a_diagonal_covariance(mu_p, s_p, mu_q, s_q):
    p, q = spec("diagnormal", mu_p, s_p), spec("diagnormal", mu_q, s_q)
    close(kl(p, q).value(50), normal_kl(mu_p, diag(s_p), mu_q, diag(s_q)))
    close(entropy(p).value(50), normal_entropy(diag(s_p)))
    close(cross_entropy(p, q).value(50), normal_cross_entropy(mu_p, diag(s_p), mu_q, diag(s_q)))


def test_diagnormal_kl_prints_as_a_sum_over_coordinates():
    expr = kl("diagnormal[2]", "diagnormal[2]").expr
    s1p, s1q = sp.symbols("sigma1_p sigma1_q", positive=True)
    assert sp.log(s1q / s1p) in expr.args


# ---------------------------------------------------------------- full-covariance normal, d = 2 and 3

MVN_POINTS = [
    ([0, 0], [[1, R(1, 2)], [R(1, 2), 2]], [1, -1], [[3, -1], [-1, 1]]),
    ([R(7, 3), -5], [[R(1, 10), R(-1, 20)], [R(-1, 20), R(1, 5)]], [0, 0], [[1, 0], [0, 1]]),
    ([1, 0, -2], [[2, R(1, 2), 0], [R(1, 2), 1, R(1, 4)], [0, R(1, 4), 3]],
     [0, 1, 1], [[1, 0, R(1, 3)], [0, 2, 0], [R(1, 3), 0, R(3, 2)]]),
]


@pytest.mark.parametrize("mu_p, cov_p, mu_q, cov_q", MVN_POINTS)
def test_mvnormal_kl_entropy_cross_entropy_at_values(mu_p, cov_p, mu_q, cov_q):
    p, q = spec("mvnormal", mu_p, cov_p), spec("mvnormal", mu_q, cov_q)
    close(kl(p, q).value(50), normal_kl(mu_p, cov_p, mu_q, cov_q))
    close(entropy(p).value(50), normal_entropy(cov_p))
    if len(mu_p) == 2:   # d = 3 derives in ~10 s a quantity: KL and entropy are enough there
        close(cross_entropy(p, q).value(50), normal_cross_entropy(mu_p, cov_p, mu_q, cov_q))


def test_mvnormal_symbolic_kl_at_points():
    r = kl("mvnormal[2]", "mvnormal[2]")
    assert [s.name for s in r.symbols[:5]] == ["mu1_p", "mu2_p", "Sigma11_p", "Sigma12_p", "Sigma22_p"]
    for mu_p, cov_p, mu_q, cov_q in MVN_POINTS[:2]:
        values = [*mu_p, cov_p[0][0], cov_p[0][1], cov_p[1][1], *mu_q, cov_q[0][0], cov_q[0][1], cov_q[1][1]]
        close(mp(sp.N(r.expr.subs(dict(zip(r.symbols, values))), 50)), normal_kl(mu_p, cov_p, mu_q, cov_q))


@pytest.mark.parametrize("p_diag", [True, False])
def test_diagnormal_and_mvnormal_cross_pairs(p_diag):
    mu_p, s_p, mu_q, cov_q = [1, -2], [R(1, 2), 3], [0, R(1, 4)], [[2, R(-1, 2)], [R(-1, 2), 1]]
    diagnormal_spec, mvnormal_spec = spec("diagnormal", mu_p, s_p), spec("mvnormal", mu_q, cov_q)
    if p_diag:
        close(kl(diagnormal_spec, mvnormal_spec).value(50), normal_kl(mu_p, diag(s_p), mu_q, cov_q))
    else:
        close(kl(mvnormal_spec, diagnormal_spec).value(50), normal_kl(mu_q, cov_q, mu_p, diag(s_p)))


def test_mvnormal_numeric_function_against_numpy():
    """The float64 function against the textbook formula in numpy linear algebra."""
    f = kl("mvnormal[2]", "mvnormal[2]").numeric()
    rng = np.random.default_rng(0)
    for _ in range(5):
        a, b = rng.normal(size=(2, 2)), rng.normal(size=(2, 2))
        cov_p, cov_q = a @ a.T + 0.1 * np.eye(2), b @ b.T + 0.1 * np.eye(2)
        mu_p, mu_q = rng.normal(size=2), rng.normal(size=2)
        inv_q, diff = np.linalg.inv(cov_q), mu_q - mu_p
        want = 0.5 * (np.trace(inv_q @ cov_p) + diff @ inv_q @ diff - 2
                      + np.log(np.linalg.det(cov_q)) - np.log(np.linalg.det(cov_p)))
        got = f(*mu_p, cov_p[0, 0], cov_p[0, 1], cov_p[1, 1], *mu_q, cov_q[0, 0], cov_q[0, 1], cov_q[1, 1])
        assert abs(got - want) <= 1e-10 * abs(want)


# ---------------------------------------------------------------- general d, matrix symbols

def test_general_d_kl_is_the_matrix_formula():
    r = kl("mvnormal[d]", "mvnormal[d]")
    assert [s.name for s in r.symbols] == ["mu_p", "Sigma_p", "mu_q", "Sigma_q"]
    assert r.expr.has(sp.Trace) and r.expr.has(sp.Determinant)
    assert not any(s.name == "x" for s in r.expr.free_symbols)
    d = next(s for s in r.expr.free_symbols if s.name == "d")
    for mu_p, cov_p, mu_q, cov_q in MVN_POINTS:
        n = len(mu_p)
        values = {r.symbols[0]: sp.ImmutableMatrix(mu_p), r.symbols[1]: sp.ImmutableMatrix(cov_p),
                  r.symbols[2]: sp.ImmutableMatrix(mu_q), r.symbols[3]: sp.ImmutableMatrix(cov_q), d: n}
        close(mp(sp.N(r.expr.subs(values).doit(), 50)), normal_kl(mu_p, cov_p, mu_q, cov_q))


def test_general_d_entropy_and_its_terms():
    r = entropy("mvnormal[d]")
    d = next(s for s in r.expr.free_symbols if s.name == "d")
    for _, cov, _, _ in MVN_POINTS:
        values = {r.symbols[0]: sp.ImmutableMatrix([0] * len(cov)), r.symbols[1]: sp.ImmutableMatrix(cov),
                  d: len(cov)}
        close(mp(sp.N(r.expr.subs(values).doit(), 50)), normal_entropy(cov))
    assert any("quadratic form" in s.how for s in r.steps)


def test_general_d_has_no_values_and_no_numeric_function():
    with pytest.raises(FamilyError, match="takes no values"):
        kl("mvnormal[d](1)", "mvnormal[d]")
    with pytest.raises(ValueError, match="matrix symbols"):
        kl("mvnormal[d]", "mvnormal[d]").numeric()
    with pytest.raises(ValueError, match="free parameters"):
        kl("mvnormal[d]", "mvnormal[d]").value()


# ---------------------------------------------------------------- declarations against their densities

def test_mvnormal_mgf_gives_its_mean_and_covariance():
    """The declared joint MGF: gradient at 0 is the mean, Hessian at 0 minus mean mean^T the covariance."""
    fam = family("mvnormal[2]")
    syms = fam.symbols()
    t = sp.Matrix(sp.symbols("t1 t2"))
    m = fam.mgf(t, *syms)
    at0 = {ti: 0 for ti in t}
    mean = [sp.diff(m, ti).subs(at0) for ti in t]
    assert mean == list(syms[:2])
    second = [[sp.simplify(sp.diff(m, ti, tj).subs(at0) - mean[i] * mean[j]) for j, tj in enumerate(t)]
              for i, ti in enumerate(t)]
    assert second == [[syms[2], syms[3]], [syms[3], syms[4]]]


@pytest.mark.parametrize("name, values", [("mvnormal[2]", (R(1, 2), -1, 2, R(-1, 2), 1)),
                                          ("diagnormal[2]", (R(1, 2), -1, R(3, 2), R(2, 3))),
                                          ("dirichlet[3]", (R(3, 2), 2, R(5, 2)))])
def test_densities_are_normalized(name, values):
    """The declared log-density integrates to 1 (scipy's 2-D quadrature; the simplex through x3 = 1 - x1 - x2)."""
    fam = family(name)
    x = fam.variable()
    density = sp.lambdify(list(x), sp.exp(fam.log_density(x, *values)), "scipy")
    if name.startswith("dirichlet"):
        total, error = dblquad(lambda b, a: density(a, (1 - a) * b, (1 - a) * (1 - b)) * (1 - a), 0, 1, 0, 1,
                               epsabs=1e-12, epsrel=1e-12)
    else:
        total, error = dblquad(lambda b, a: density(a, b), -np.inf, np.inf, -np.inf, np.inf, epsabs=1e-12,
                               epsrel=1e-12)
    assert abs(total - 1) < 1e-9 and error < 1e-9


def test_dirichlet_exponential_family_form_equals_its_log_density():
    fam = family("dirichlet[4]")
    ef, syms, x = fam.exp_family, fam.symbols(), fam.variable()
    eta = ef.natural(*syms)
    form = sum(e * t for e, t in zip(eta, ef.stats(x))) - ef.log_partition(eta, *syms) + ef.log_base(x, *syms)
    assert sp.simplify(form - fam.log_density(x, *syms)) == 0


# ---------------------------------------------------------------- check: the definitions by quadrature

@pytest.mark.parametrize("p, q", [("dirichlet(437/100, 101/50, 393/100)", "dirichlet(23/5, 11/5, 3/2)"),
                                  ("mvnormal[2]", "diagnormal[2]")])
def test_check_verifies_by_one_dimensional_quadratures(p, q):
    for record in check(p, q, n_points=2):
        assert record.status == "verified", record.to_json()
        assert record.digits >= 40



def test_check_of_a_fixed_pair_at_values():
    records = check("mvnormal([0, 0], [[1, 0.5], [0.5, 2]])", "mvnormal([1, 1], [[2, 0], [0, 2]])", n_points=1)
    assert {r.status for r in records} == {"verified"}


# ---------------------------------------------------------------- specs: good and bad

GOOD_SPECS = [
    ("mvnormal([0, 0], [[1, 0.5], [0.5, 2]])", "mvnormal[2]", (0, 0, 1, R(1, 2), 2)),
    ("mvnormal(0, 0, 1, 0.5, 2)", "mvnormal[2]", (0, 0, 1, R(1, 2), 2)),
    ("mvnormal(mu=[1, 2, 3], Sigma=[[1, 0, 0], [0, 1, 0], [0, 0, 1]])", "mvnormal[3]", (1, 2, 3, 1, 0, 0, 1, 0, 1)),
    ("mvnormal(_, [[2, 1], [1, 2]])", "mvnormal[2]", (None, None, 2, 1, 2)),
    ("mvnormal[2](Sigma12=0.25)", "mvnormal[2]", (None, None, None, R(1, 4), None)),
    ("diagnormal(0, 0, 1, 1)", "diagnormal[2]", (0, 0, 1, 1)),
    ("diagnormal([1, 2, 3], [4, 5, 6])", "diagnormal[3]", (1, 2, 3, 4, 5, 6)),
    ("diagnormal[2](sigma=[1, 2])", "diagnormal[2]", (None, None, 1, 2)),
    ("dirichlet(0.5, 0.5)", "dirichlet[2]", (R(1, 2), R(1, 2))),
]


@pytest.mark.parametrize("text, label, bound", GOOD_SPECS)
def test_good_specs(text, label, bound):
    inst = instance(text)
    assert inst.family.label == label
    assert inst.bound == bound


BAD_SPECS = [
    ("mvnormal([0, 0], [[1, 2], [2, 1]])", "positive definite"),
    ("mvnormal([0, 0], [[1, 0.5], [0.4, 1]])", "symmetric"),
    ("mvnormal([0, 0, 0], [[1, 0], [0, 1]])", "3x3 matrix"),
    ("mvnormal([0, 0], [[1, 0], [0]])", "rows of different lengths"),
    ("mvnormal([0, 0], [[1, 0], [0, -1]])", "Sigma22 must be > 0"),
    ("mvnormal([1, 2], 3)", "2x2 matrix"),
    ("mvnormal([0, 0], [[1, 0], [0, 1]], [1])", r"takes 2 list\(s\)"),
    ("mvnormal(mu=[0, 0], mu1=1)", "given twice"),
    ("mvnormal(mean=[0, 0])", "no parameter 'mean'"),
    ("mvnormal([0, 0, 0, 0], [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]])", "between 1 and 3"),
    ("mvnormal", "needs its size"),
    ("mvnormal[d](1)", "takes no values"),
    ("mvnormal([0, m], [[1, 0], [0, 1]])", "numbers only"),
    ("dirichlet(1, -2, 3)", "alpha2 must be > 0"),
    ("dirichlet([1, 2, oo])", "finite"),
    ("dirichlet(1)", "cannot tell the size"),
    ("dirichlet[d]", "whole number"),
    ("diagnormal(0, 1, 2)", "cannot tell the size"),
    ("diagnormal([0, 0], [1, -1])", "sigma2 must be > 0"),
    ("diagnormal([0, 0], [1, 1, 1])", r"list of 2 number\(s\)"),
]


@pytest.mark.parametrize("text, message", BAD_SPECS)
def test_bad_specs_are_clear_errors(text, message):
    with pytest.raises(FamilyError, match=message):
        instance(text)
    result = runner.invoke(app, ["entropy", text])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert re.search(message, " ".join(result.output.split()))


@pytest.mark.parametrize("p, q", [("normal", "mvnormal[2]"), ("categorical[3]", "dirichlet[3]"),
                                  ("mvnormal[2]", "mvnormal[3]")])
def test_distributions_on_different_spaces_have_no_kl(p, q):
    result = runner.invoke(app, ["kl", p, q])
    assert result.exit_code == 2 and "different spaces" in result.output


def test_normal_against_dirichlet_is_infinite():
    r = kl("mvnormal[3]", "dirichlet[3]")
    assert r.status == "infinite" and "x1 + x2 + x3 = 1" in r.reason


# ---------------------------------------------------------------- expect and verify with vectors

def test_expectations_of_coordinates():
    """E[x1 x2] = Sigma12 + mu1 mu2 (normal); E[log x1] = psi(alpha1) - psi(alpha0) (Dirichlet)."""
    out = json.loads(runner.invoke(app, ["expect", "mvnormal[2]", "x1*x2", "--json"]).stdout)
    mu1, mu2, s12 = sp.symbols("mu1 mu2 Sigma12", real=True)
    assert parse_expr(out["expr"], local_dict={"mu1": mu1, "mu2": mu2, "Sigma12": s12}) == s12 + mu1 * mu2
    out = json.loads(runner.invoke(app, ["expect", "dirichlet(1, 2, 3)", "log(x1)", "--json"]).stdout)
    with mpmath.workdps(60):
        want = mpmath.digamma(1) - mpmath.digamma(6)
    close(mp(sp.N(parse_expr(out["expr"]), 50)), want)


def test_verify_the_vae_term_and_a_log_std_slip():
    ok = runner.invoke(app, ["verify", "kl", "diagnormal[2]", "diagnormal(0, 0, 1, 1)",
                             ("(sigma1_p**2 + mu1_p**2 - 1 - log(sigma1_p**2) + sigma2_p**2 + mu2_p**2 - 1"
                              " - log(sigma2_p**2))/2")])
    assert ok.exit_code == 0 and "EQUIVALENT" in ok.output
    slip = runner.invoke(app, ["verify", "kl", "diagnormal[2]", "diagnormal(0, 0, 1, 1)",
                               ("(sigma1_p**2 + mu1_p**2 - 1 - log(sigma1_p) + sigma2_p**2 + mu2_p**2 - 1"
                                " - log(sigma2_p))/2")])
    assert slip.exit_code == 1 and "WRONG" in slip.output


def test_verify_refuses_matrix_symbols_clearly():
    result = runner.invoke(app, ["verify", "kl", "mvnormal[d]", "mvnormal[d]", "d/2"])
    assert result.exit_code == 2 and "Traceback" not in result.output
