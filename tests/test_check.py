"""check(): closed forms against independent 50-digit quadrature and summation of the definitions."""
import dataclasses

import mpmath
import pytest
import sympy as sp

from symkl import cache
from symkl.check import check
from symkl.quadrature import integrate_definition
from symkl.spec import instance


@pytest.mark.parametrize("p, q", [("poisson", "poisson"), ("uniform", "normal"), ("bernoulli", "bernoulli"),
                                  ("categorical[3]", "poisson"), ("binomial", "binomial")])
def test_closed_forms_verify_to_40_digits(p, q):
    for record in check(p, q, n_points=3):
        assert record.status == "verified", record.to_json()
        assert record.digits >= 40


def test_infinite_kl_is_shown_by_mass_where_q_has_none():
    records = {r.quantity: r for r in check("normal", "exponential", n_points=2)}
    assert records["kl"].status == "infinite"
    assert records["cross_entropy"].status == "infinite"


def test_infinite_kl_where_p_has_mass_too_small_to_measure():
    """gumbel(37/20, 1/100) puts mass exp(-e^185) below 0, where lognormal has none: no quadrature measures it, but
    its density is positive there, and that shows KL = oo."""
    records = {r.quantity: r for r in check("gumbel(37/20, 1/100)", "lognormal(0, 1)", n_points=1)}
    assert records["kl"].status == records["cross_entropy"].status == "infinite", records["kl"].to_json()


def test_a_wrong_closed_form_fails(monkeypatch):
    """Perturb the derived KL by 1e-30: the check must notice."""
    original = cache.derivation

    def perturbed(quantity, fp, fq=None):
        d = original(quantity, fp, fq)
        return dataclasses.replace(d, expr=d.expr + sp.Rational(1, 10**30)) if quantity == "kl" else d

    monkeypatch.setattr(cache, "derivation", perturbed)
    records = {r.quantity: r for r in check("poisson", "poisson", n_points=2)}
    assert records["kl"].status == "failed"
    assert records["entropy"].status == "verified"


def test_a_finite_closed_form_where_the_definition_diverges_fails(monkeypatch):
    """KL(logistic||gumbel) is finite only when scale_p < scale_q: its finite branch used at scale_p = 5/2, scale_q = 1
    (where the two quadrature methods part ways, as the integral grows without bound) must fail, not be called
    inconclusive."""
    original = cache.derivation

    def condition_dropped(quantity, fp, fq=None):
        d = original(quantity, fp, fq)
        return dataclasses.replace(d, expr=d.expr.args[0][0], condition=sp.true, status="closed") \
            if isinstance(d.expr, sp.Piecewise) else d

    monkeypatch.setattr(cache, "derivation", condition_dropped)
    record = check("logistic(0, 5/2)", "gumbel(0, 1)", n_points=1)[1]
    assert record.status == "failed" and record.points[0]["numeric"] == "+inf", record.to_json()


def test_a_closed_form_mpmath_cannot_evaluate_is_not_verified_by_quadrature():
    """KL(rayleigh(1/100)||halfcauchy(10)) is a Meijer G form mpmath's hypercomb gives up on. value() answers by
    quadrature there, but the check must not compare that quadrature with itself and call it verified."""
    record = check("rayleigh(1/100)", "halfcauchy(10)", n_points=1)[1]
    assert record.quantity == "kl" and record.status == "inconclusive", record.to_json()
    assert "could not evaluate" in record.points[0]["note"]


def test_the_confirming_quadrature_keeps_the_integrands_guard_digits():
    """tanh-sinh confirms Gauss-Legendre stopping at 50 digits, but its integrand keeps 70: logitnormal(-43/50, 10)
    against logitnormal(491/100, 10) integrates log(x) - log(1 - x) next to x = 1 in the uniform variable, where
    50 working digits left it 1.5e-37 from the value; the KL is that of the normals, (491/100 + 43/50)^2/200."""
    p, q = instance("logitnormal(-43/50, 10)"), instance("logitnormal(491/100, 10)")
    value = integrate_definition("kl", p.family, p.bound, q.family, q.bound, dps=50)
    with mpmath.workdps(60):
        assert value is not None and abs(value - (mpmath.mpf(577) / 100)**2 / 200) < mpmath.mpf(10) ** -45


def test_log_factors_below_a_whole_leading_power_get_a_fitted_substitution():
    """rayleigh(10)||inversegamma(10, 10): near x = 0 the integrand is the constant b/x * x plus x log x terms;
    with y = u**2 (the leading power is whole) Gauss-Legendre stayed 2e-20 off tanh-sinh, and all five points of
    rayleigh and maxwell against inversegamma and inversegaussian were inconclusive. Reference: tanh-sinh here on
    the textbook densities."""
    p, q = instance("rayleigh(10)"), instance("inversegamma(10, 10)")
    value = integrate_definition("kl", p.family, p.bound, q.family, q.bound, dps=50)
    with mpmath.workdps(60):
        s, a, b = mpmath.mpf(10), mpmath.mpf(10), mpmath.mpf(10)
        log_p = lambda x: mpmath.log(x / s**2) - x**2 / (2 * s**2)  # noqa: E731
        log_q = lambda x: a * mpmath.log(b) - mpmath.loggamma(a) - (a + 1) * mpmath.log(x) - b / x  # noqa: E731
        reference = mpmath.quad(lambda x: mpmath.exp(log_p(x)) * (log_p(x) - log_q(x)), [0, 10, 20, 40, 80, 320])
        assert value is not None and abs(value - reference) < mpmath.mpf(10) ** -45, (value, reference)


def test_a_slow_exponential_tail_is_cut_past_the_landmarks():
    """pareto(437/100, 101/50)||normal(69/25, 23/5), integrated in pareto's exponential variable y: the term
    x^2/(2 sigma^2) falls as exp(-0.0099 y), most of it past the last landmark (y = 127), where one infinite piece
    left Gauss-Legendre 1e-13 off. Reference, from the textbook: E[X] = a m/(a - 1), E[X^2] = a m^2/(a - 2),
    H(pareto) = log(m/a) + 1/a + 1."""
    p, q = instance("pareto(437/100, 101/50)"), instance("normal(69/25, 23/5)")
    value = integrate_definition("kl", p.family, p.bound, q.family, q.bound, dps=50)
    with mpmath.workdps(60):
        m, a, mu, sigma = mpmath.mpf(437) / 100, mpmath.mpf(101) / 50, mpmath.mpf(69) / 25, mpmath.mpf(23) / 5
        mean, square = a * m / (a - 1), a * m**2 / (a - 2)
        reference = -(mpmath.log(m / a) + 1 / a + 1) + mpmath.log(sigma * mpmath.sqrt(2 * mpmath.pi)) \
            + (square - 2 * mu * mean + mu**2) / (2 * sigma**2)
        assert value is not None and abs(value / reference - 1) < mpmath.mpf(10) ** -45, (value, reference)


def test_continuousbernoulli_at_one_half_verifies():
    """lam = 1/2 (the uniform) is where the derived form reads 0/0: its limit is checked like any closed form."""
    for record in check("continuousbernoulli(1/2)", "normal(1/3, 2)", n_points=1):
        assert record.status == "verified" and record.digits >= 40, record.to_json()


@pytest.mark.slow
def test_check_all_over_a_sample_of_the_catalog():
    """check --all's machinery on an even sample of SYMKL_SLOW_SIZE catalog jobs (default 24; "all" for every
    one): nothing fails, a crash or a timeout is never counted verified, each verified record has 40 digits."""
    import os

    from symkl.catalog import jobs
    from symkl.check import check_all
    size = os.environ.get("SYMKL_SLOW_SIZE", "24")
    every = 1 if size == "all" else max(1, len(jobs()) // int(size))
    records = check_all(workers=2, n_points=2, every=every)
    assert len(records) >= len(jobs()[::every]) - 3  # less the general-dimension forms, which take no values
    assert not [r.to_json() for r in records if r.status == "failed"]
    for r in records:
        assert r.status in ("verified", "infinite", "inconclusive", "no-closed-form"), r.to_json()
        if r.status == "verified":
            assert r.digits >= 40, r.to_json()
    # a pair without a closed form has nothing to verify: the share is of the pairs that have one (or are oo)
    decided = [r for r in records if r.status != "no-closed-form"]
    assert sum(r.status in ("verified", "infinite") for r in decided) >= 0.8 * len(decided)


def test_exponential_families_agree_with_the_bregman_divergence():
    """Same-family KL in an exponential family is also A(eta_q) - A(eta_p) - (eta_q - eta_p).grad A(eta_p):
    each point carries the digits of that agreement too."""
    for p in ("normal", "gamma", "poisson", "beta"):
        record = check(p, p, n_points=2)[1]
        assert record.status == "verified", record.to_json()
        assert all(pt["bregman_digits"] >= 40 for pt in record.points), record.to_json()


def test_a_wrong_bregman_value_fails(monkeypatch):
    from symkl import proof
    original = proof.bregman_kl
    monkeypatch.setattr(proof, "bregman_kl", lambda ip, iq: original(ip, iq) + sp.Rational(1, 10**30))
    record = check("normal", "normal", n_points=1)[1]
    assert record.status == "failed" and record.points[0]["bregman_digits"] < 40


def test_a_wrong_continuous_cross_entropy_fails(monkeypatch):
    """The continuous cross-entropy is integrated as KL + H(P) (the same definition by linearity): a closed form
    off by 1e-30 still fails, while KL and H(P) pass."""
    original = cache.derivation

    def perturbed(quantity, fp, fq=None):
        d = original(quantity, fp, fq)
        return dataclasses.replace(d, expr=d.expr + sp.Rational(1, 10**30)) if quantity == "cross_entropy" else d

    monkeypatch.setattr(cache, "derivation", perturbed)
    records = {r.quantity: r for r in check("gamma", "normal", n_points=2)}
    assert records["cross_entropy"].status == "failed", records["cross_entropy"].to_json()
    assert records["kl"].status == records["entropy"].status == "verified"


def test_a_peak_near_the_end_of_a_half_line_is_integrated_by_both_methods():
    """inversegaussian(11/5, 1/4) peaks at 0.08, inside the first unit step from 0: Gauss-Legendre's entropy was
    3.7e-33 off (the check inconclusive) until the pieces were split around the mode. Reference: its density
    typed here, integrated by mpmath between hand-placed points."""
    ig = instance("inversegaussian(11/5, 1/4)")
    with mpmath.workdps(60):
        mu, lam = mpmath.mpf(11) / 5, mpmath.mpf(1) / 4
        log_p = lambda x: (mpmath.log(lam / (2 * mpmath.pi * x**3)) / 2  # noqa: E731
                           - lam * (x - mu)**2 / (2 * mu**2 * x))
        cuts = [0, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, mpmath.inf]
        reference = mpmath.quad(lambda x: -mpmath.exp(log_p(x)) * log_p(x), [mpmath.mpf(c) for c in cuts])
        value = integrate_definition("entropy", ig.family, ig.bound, None, ())
        assert value is not None and abs(value - reference) < mpmath.mpf(10) ** -40, (value, reference)


def test_a_square_root_transformation_is_integrated_by_both_methods():
    """chi(10) is integrated in its gamma variable y = x^2/2, where gamma(10, 10)'s -10x becomes -10 sqrt(2y): a
    half-integer power under y^4 at 0. Without a substitution there Gauss-Legendre stopped 1.6e-30 off and the
    check was inconclusive. Reference: the two densities typed here, integrated in x by mpmath."""
    chi, gamma = instance("chi(10)"), instance("gamma(10, 10)")
    with mpmath.workdps(60):
        log_p = lambda x: 9 * mpmath.log(x) - x**2 / 2 - 4 * mpmath.log(2) - mpmath.loggamma(5)  # noqa: E731
        log_q = lambda x: 10 * mpmath.log(10) + 9 * mpmath.log(x) - 10 * x - mpmath.loggamma(10)  # noqa: E731
        reference = mpmath.quad(lambda x: mpmath.exp(log_p(x)) * (log_p(x) - log_q(x)), [0, 1, 2, 3, 4, 6, 10, 20])
        value = integrate_definition("kl", chi.family, chi.bound, gamma.family, gamma.bound)
        assert value is not None and abs(value - reference) < mpmath.mpf(10) ** -40, (value, reference)


def test_an_integrand_peaked_far_past_the_landmarks_agrees_by_both_methods():
    """lognormal(151/50, 10)||weibull(10, 10): in the normal variable y the integrand holds exp(10 y)^10, which
    puts its mass near y = 100 sigma^2 = 10^4, a thousand scales out (the KL is 3.9e2174). Tanh-sinh cut only at
    0, 4, 32 and 256 scales stopped 3.5e-21 off there. Reference, from the textbook: H(lognormal) = mu + 1/2 +
    log(sigma sqrt(2 pi)), E[log X] = mu, E[X^k] = exp(k mu + k^2 sigma^2/2)."""
    p, q = instance("lognormal(151/50, 10)"), instance("weibull(10, 10)")
    value = integrate_definition("kl", p.family, p.bound, q.family, q.bound, dps=50)
    with mpmath.workdps(60):
        mu, sigma, k, lam = mpmath.mpf(151) / 50, mpmath.mpf(10), mpmath.mpf(10), mpmath.mpf(10)
        entropy = mu + mpmath.mpf(1) / 2 + mpmath.log(sigma * mpmath.sqrt(2 * mpmath.pi))
        moment = mpmath.exp(k * mu + k**2 * sigma**2 / 2)  # E[X^k]
        log_q = mpmath.log(k / lam) + (k - 1) * (mu - mpmath.log(lam)) - moment / lam**k
        reference = -entropy - log_q
        assert value is not None and abs(value / reference - 1) < mpmath.mpf(10) ** -45, (value, reference)


def _kl_by_definition(p_spec, q_spec):
    p, q = instance(p_spec), instance(q_spec)
    return integrate_definition("kl", p.family, p.bound, q.family, q.bound, dps=50)


def _laplace_kl(entropy_p, mean_abs, b):
    """KL(P||laplace(c, b)) from P's entropy and E_P|X - c|: -H(P) + log(2b) + E|X - c|/b."""
    return -entropy_p + mpmath.log(2 * b) + mean_abs / b


def test_a_kink_between_a_finite_end_and_the_first_landmark_is_found():
    """gumbel(151/50, 10)||laplace(491/100, 10): in gumbel's exponential variable y, |x - loc_q| is
    |10 log(y) + 189/100|, a kink at y = 0.83, below the landmarks (which start at 1). Reference, from the
    textbook: H(gumbel) = log(beta) + euler + 1, E|X - c| = mu - c + beta euler + 2 beta E1(exp((mu - c)/beta))."""
    value = _kl_by_definition("gumbel(151/50, 10)", "laplace(491/100, 10)")
    with mpmath.workdps(60):
        mu, beta, c, b = mpmath.mpf(151) / 50, mpmath.mpf(10), mpmath.mpf(491) / 100, mpmath.mpf(10)
        mean_abs = mu - c + beta * mpmath.euler + 2 * beta * mpmath.e1(mpmath.exp((mu - c) / beta))
        reference = _laplace_kl(mpmath.log(beta) + mpmath.euler + 1, mean_abs, b)
        assert value is not None and abs(value / reference - 1) < mpmath.mpf(10) ** -45, (value, reference)


def test_a_kink_next_to_a_finite_end_is_graded_away_from_it():
    """logistic(-7/10, 1/4)||laplace(-47/20, 499/100): the kink sits at y = 0.00136 in logistic's variable on
    (0, 1), next to the end's log(y); one piece from there to 1 left Gauss-Legendre 1.7e-45 off. Reference, from
    the textbook: H(logistic) = log(s) + 2, E|X - c| = 2 s log(1 + exp((mu - c)/s)) - (mu - c)."""
    value = _kl_by_definition("logistic(-7/10, 1/4)", "laplace(-47/20, 499/100)")
    with mpmath.workdps(60):
        mu, s, c, b = mpmath.mpf(-7) / 10, mpmath.mpf(1) / 4, mpmath.mpf(-47) / 20, mpmath.mpf(499) / 100
        mean_abs = 2 * s * mpmath.log1p(mpmath.exp((mu - c) / s)) - (mu - c)
        reference = _laplace_kl(mpmath.log(s) + 2, mean_abs, b)
        assert value is not None and abs(value / reference - 1) < mpmath.mpf(10) ** -45, (value, reference)


def test_a_q_far_narrower_than_p_is_cut_at_its_own_landmarks():
    """cauchy(491/100, 10)||studentt(10, 97/100, 1/100): log q changes over 0.01 near 0.97, inside one of
    cauchy's pieces of width 10; both methods were 1e-5 off. Reference, from the textbook: H(cauchy) =
    log(4 pi gamma), and under cauchy(x0, gamma), E log((X - m)^2 + a^2) = log((x0 - m)^2 + (gamma + a)^2)."""
    value = _kl_by_definition("cauchy(491/100, 10)", "studentt(10, 97/100, 1/100)")
    with mpmath.workdps(60):
        x0, g, nu, m, sd = mpmath.mpf(491) / 100, mpmath.mpf(10), mpmath.mpf(10), mpmath.mpf(97) / 100, \
            mpmath.mpf(1) / 100
        a2 = nu * sd**2
        mean_log = mpmath.log((x0 - m) ** 2 + (g + mpmath.sqrt(a2)) ** 2) - mpmath.log(a2)
        log_norm = mpmath.loggamma((nu + 1) / 2) - mpmath.loggamma(nu / 2) - mpmath.log(nu * mpmath.pi) / 2 - \
            mpmath.log(sd)
        reference = -mpmath.log(4 * mpmath.pi * g) - log_norm + (nu + 1) / 2 * mean_log
        assert value is not None and abs(value / reference - 1) < mpmath.mpf(10) ** -45, (value, reference)


def test_every_finite_branch_of_a_piecewise_closed_form_is_verified_at_a_point():
    """KL(beta||laplace) has three branches in loc_q: <= 0, inside (0, 1) (incomplete beta functions) and >= 1.
    The seeded random locations all fall outside (0, 1); the check must still evaluate the middle branch, where
    the formula is hardest, at one of its points, and keep the others covered."""
    rec = check("beta", "laplace")[1]
    locations = [sp.Rational(pt["q"].split("(")[1].split(",")[0]) for pt in rec.points]
    assert any(v <= 0 for v in locations) and any(0 < v < 1 for v in locations) and any(v >= 1 for v in locations)
    assert rec.status == "verified" and len(rec.points) == 5, rec
