"""Custom densities (symkl.custom, `--p-density` ...): catalog families retyped as densities must give the textbook
formulas typed here; non-densities are refused; a density without a closed form gets an honest message and a
quadrature value that matches mpmath's own, computed here; bad text is a message with exit 2, never a traceback.
"""
from __future__ import annotations

import mpmath
import pytest
import sympy as sp
from typer.testing import CliRunner

from symkl import custom
from symkl.cli import app
from symkl.custom import DensityError, density
from symkl.parse import ParseError
from symkl.query import cross_entropy, entropy, kl

rate_p, rate_q, s_p, sigma_q, s, shape_p, shape_q, lam_p, p_p, p_q, b_q = sp.symbols(
    "rate_p rate_q s_p sigma_q s shape_p shape_q lam_p p_p p_q b_q", positive=True)
mu_p, mu_q, a_p, b_p, m_q = sp.symbols("mu_p mu_q a_p b_p m_q", real=True)

EXP = ("rate*exp(-rate*x)", "[0, oo)", False, "rate > 0")
NORMAL = ("exp(-(x - mu)**2/(2*s**2))/sqrt(2*pi*s**2)", None, False, "s > 0")
GAMMA = ("rate**shape*x**(shape - 1)*exp(-rate*x)/gamma(shape)", "(0, oo)", False, "shape > 0, rate > 0")
POISSON = ("exp(-lam)*lam**x/factorial(x)", "{0, 1, 2, ...}", False, "lam > 0")
BINOMIAL5 = ("binomial(5, x)*p**x*(1 - p)**(5 - x)", "{0, 1, ..., 5}", False, "0 < p < 1")
UNIFORM = ("1/(b - a)", "[a, b]", False, "a < b")
LAPLACE = ("exp(-abs(x - m)/b)/(2*b)", None, False, "b > 0")


def d(spec):
    return density(*spec)


# (what, the query, the textbook formula, a parameter point)
TEXTBOOK = [
    ("exp||exp", lambda: kl(d(EXP), d(EXP)), sp.log(rate_p / rate_q) + rate_q / rate_p - 1,
     {"rate_p": 2, "rate_q": sp.Rational(1, 3)}),
    ("exp||catalog exponential", lambda: kl(d(EXP), "exponential"), sp.log(rate_p / rate_q) + rate_q / rate_p - 1,
     {"rate_p": sp.Rational(7, 5), "rate_q": 3}),
    ("catalog exponential||exp", lambda: kl("exponential", d(EXP)), sp.log(rate_p / rate_q) + rate_q / rate_p - 1,
     {"rate_p": sp.Rational(7, 5), "rate_q": 3}),
    ("normal||catalog normal", lambda: kl(d(NORMAL), "normal"),
     sp.log(sigma_q / s_p) + (s_p**2 + (mu_p - mu_q)**2) / (2 * sigma_q**2) - sp.Rational(1, 2),
     {"mu_p": sp.Rational(-1, 3), "s_p": 2, "mu_q": 1, "sigma_q": sp.Rational(1, 2)}),
    ("H(normal)", lambda: entropy(d(NORMAL)), sp.log(2 * sp.pi * sp.E * s**2) / 2, {"mu": 5, "s": sp.Rational(3, 2)}),
    # KL(Gamma(a_p, r_p) || Gamma(a_q, r_q)) = (a_p - a_q) psi(a_p) - lnG(a_p) + lnG(a_q) + a_q ln(r_p/r_q)
    #                                         + a_p (r_q - r_p)/r_p
    ("gamma||gamma", lambda: kl(d(GAMMA), d(GAMMA)),
     (shape_p - shape_q) * sp.digamma(shape_p) - sp.loggamma(shape_p) + sp.loggamma(shape_q)
     + shape_q * sp.log(rate_p / rate_q) + shape_p * (rate_q - rate_p) / rate_p,
     {"shape_p": sp.Rational(5, 2), "rate_p": 3, "shape_q": sp.Rational(1, 2), "rate_q": sp.Rational(2, 7)}),
    ("poisson||catalog poisson", lambda: kl(d(POISSON), "poisson"), lam_p * sp.log(lam_p / rate_q) - lam_p + rate_q,
     {"lam_p": sp.Rational(9, 4), "rate_q": 5}),
    ("binomial(5)||catalog binomial(5)", lambda: kl(d(BINOMIAL5), "binomial(5)"),
     5 * (p_p * sp.log(p_p / p_q) + (1 - p_p) * sp.log((1 - p_p) / (1 - p_q))),
     {"p_p": sp.Rational(3, 10), "p_q": sp.Rational(3, 4)}),
    # KL(U(a, b) || N(mu, sigma^2)) = log(sigma sqrt(2 pi)/(b - a)) + ((b - a)^2/12 + ((a + b)/2 - mu)^2)/(2 sigma^2)
    ("uniform||catalog normal", lambda: kl(d(UNIFORM), "normal"),
     sp.log(sigma_q * sp.sqrt(2 * sp.pi) / (b_p - a_p))
     + ((b_p - a_p)**2 / 12 + ((a_p + b_p) / 2 - mu_q)**2) / (2 * sigma_q**2),
     {"a_p": -1, "b_p": sp.Rational(5, 2), "mu_q": sp.Rational(1, 3), "sigma_q": 2}),
    # H(N(0, 1), Laplace(m, b)) = log(2b) + E|X - m|/b, E|X - m| = m erf(m/sqrt 2) + sqrt(2/pi) exp(-m^2/2)
    ("H(catalog normal(0, 1), laplace)", lambda: cross_entropy("normal(0, 1)", d(LAPLACE)),
     sp.log(2 * b_q) + (m_q * sp.erf(m_q / sp.sqrt(2)) + sp.sqrt(2 / sp.pi) * sp.exp(-m_q**2 / 2)) / b_q,
     {"m_q": sp.Rational(-3, 2), "b_q": sp.Rational(4, 3)}),
    ("H(a*exp(-a*x)) at a = 2", lambda: entropy(density("a*exp(-a*x)", "[0, oo)", assume="a > 0", values="a=2")),
     1 - sp.log(2), {}),
]


@pytest.mark.parametrize("what, query, reference, point", TEXTBOOK, ids=[t[0] for t in TEXTBOOK])
def test_custom_densities_give_the_textbook_formulas(what, query, reference, point):
    result = query()
    assert result.status == "closed", (what, result.status)
    assert {s.name for s in result.expr.free_symbols} <= set(point), result.expr
    by_name = lambda e: e.xreplace({v: point[v.name] for v in e.free_symbols})  # noqa: E731
    got, want = sp.N(by_name(result.expr), 40), sp.N(by_name(reference), 40)
    assert abs(got - want) <= 1e-30 * max(1, abs(want)), (what, got, want)


@pytest.mark.parametrize("spec, support, discrete, assume, message", [
    ("exp(-x)*2", "[0, oo)", False, "", "total mass is 2, not 1"),
    ("exp(-x)", None, False, "", "total mass is oo"),
    ("a*exp(-x)", "[0, oo)", False, "a > 0", "total mass is a"),
    ("exp(-x**4)", None, False, "", "gamma(1/4)/2"),
    ("x", "[-1, 1]", False, "", "negative"),
    ("c", "[0, 1]", False, "", "'c > 0'"),
    ("(1 - p)*p**x", "{0, 1, ...}", False, "", "negative"),
    ("1/2", "[0, oo)", True, "", "total mass is oo"),
])
def test_non_densities_are_refused(spec, support, discrete, assume, message):
    with pytest.raises(DensityError, match="not normalized|negative") as err:
        density(spec, support, discrete, assume)
    assert message in str(err.value)


def test_normalization_is_checked_numerically_when_sympy_has_no_closed_form(monkeypatch):
    monkeypatch.setattr(custom, "_symbolic_mass", lambda fam: None)
    assert custom.check_density(density(*GAMMA).family).startswith("numerically")
    beta = density("x**(a - 1)*(1 - x)**(b - 1)/beta(a, b)", "(0, 1)", assume="a > 0, b > 0")  # singular ends
    assert custom.check_density(beta.family).startswith("numerically")
    with pytest.raises(DensityError, match=r"total mass is 1\.3485"):  # the integral of exp(-x^2 - sin(x)^2)
        density("exp(-x**2 - sin(x)**2)")
    with pytest.raises(DensityError, match="total mass is 2"):
        density("2*p*(1 - p)**x", "{0, 1, 2, ...}", assume="0 < p < 1")


WAVY = "2*exp(-x)*(1 + sin(x))/3"  # a density on [0, oo) whose entropy needs E[log(1 + sin X)]: no closed form


def _wavy_kl_exponential_2(dps: int) -> mpmath.mpf:
    """KL(wavy || Exponential(2)) by mpmath: the integral of p log(p/q), split where 1 + sin x = 0."""
    with mpmath.workdps(dps):
        def integrand(x):
            p = 2 * mpmath.exp(-x) * (1 + mpmath.sin(x)) / 3
            return p * (mpmath.log(p) - mpmath.log(2) + 2 * x) if p > 0 else mpmath.mpf(0)
        cuts = [0] + [3 * mpmath.pi / 2 + 2 * mpmath.pi * k for k in range(40)] + [mpmath.inf]
        return mpmath.quad(integrand, cuts)


def test_no_closed_form_is_said():
    result = kl(density(WAVY, "[0, oo)"), "exponential")
    assert result.status == "no-closed-form" and result.expr is None
    assert "E[log(sin(x) + 1)]" in result.steps[-1].how
    with pytest.raises(ValueError, match="give every parameter a value"):
        result.value()


def test_no_closed_form_gives_the_quadrature_value_matching_mpmath():
    out = CliRunner().invoke(app, ["kl", "--p-density", WAVY, "--q-density", "a*exp(-a*x)", "--q-values", "a=2",
                                   "--support", "[0, oo)", "--assume", "a > 0"])
    assert out.exit_code == 0, out.output
    assert "no closed form found" in out.output and "E[log(sin(x) + 1)]" in out.output
    shown = out.output.split("= ")[-1].split()[0]
    assert abs(mpmath.mpf(shown) - _wavy_kl_exponential_2(40)) < 1e-11  # log p is singular where p = 0
    free = CliRunner().invoke(app, ["kl", "--p-density", WAVY, "exponential", "--support", "[0, oo)"])
    assert free.exit_code == 0 and "give every parameter a value" in free.output


@pytest.mark.parametrize("args, message", [
    (["kl", "--p-density", "rate*exp(-rate*x", "normal"], "was never closed"),
    (["kl", "--p-density", "__import__('os').system('ls')", "normal"], "not allowed"),
    (["kl", "--p-density", "foo(x)", "normal"], "function 'foo' is not allowed"),
    (["kl", "--p-density", "x**(10**10)", "normal"], "too large"),
    (["kl", "--p-density", "", "normal"], "empty input"),
    (["kl", "--p-density", "k*exp(-k*x)", "normal"], "'k' cannot be a parameter name"),
    (["kl", "--p-density", "exp(-x)", "--support", "[0, oo", "exponential"], "a support is an interval"),
    (["kl", "--p-density", "exp(-x)", "--support", "[1, 0]", "exponential"], "is empty"),
    (["kl", "--p-density", "exp(-x)", "--support", "[0, oo, 1)", "exponential"], "two ends"),
    (["kl", "--p-density", "1/2", "--support", "{0, 1.5, ...}", "poisson"], "whole numbers"),
    (["kl", "--p-density", "1/2", "--support", "[0, 1.5]", "--discrete", "poisson"], "starts at a whole number"),
    (["kl", "--p-density", "r*exp(-r*x)", "--support", "[0, oo)", "--assume", "r >> 0", "exponential"],
     "expected a comparison"),
    (["kl", "--p-density", "r*exp(-r*x)", "--support", "[0, oo)", "--assume", "r > 0", "--p-values", "r=",
      "exponential"], "cannot read the parameter values"),
    (["kl", "--p-density", "r*exp(-r*x)", "--support", "[0, oo)", "--assume", "r > 0", "--p-values", "r=-1",
      "exponential"], "r must be > 0"),
    (["kl", "--p-density", "r*exp(-r*x)", "--support", "[0, oo)", "--assume", "r > 0", "--p-values", "q=1",
      "exponential"], "no parameter 'q'"),
    (["kl", "--p-density", "r*exp(-r*x)", "--support", "[0, oo)", "--assume", "rr > 0", "exponential"], "negative"),
    (["kl", "normal", "normal", "--assume", "a > 0"], "no custom density uses"),
    (["kl", "normal", "normal", "--q-values", "mu=1"], "--q-values belongs with --q-density"),
    (["kl", "--p-density", "exp(-x)", "--support", "[0, oo)", "normal", "normal"], "too many distributions"),
    (["kl", "--p-density", "exp(-x)", "--support", "[0, oo)"], "missing Q"),
    (["entropy"], "missing P"),
    (["entropy", "--density", "exp(exp(exp(x)))"], "not normalized"),
    (["cross-entropy", "normal", "--q-density", "sin(x)"], "negative"),
])
def test_bad_text_is_a_message_with_exit_2(args, message):
    out = CliRunner().invoke(app, args)
    assert out.exception is None or isinstance(out.exception, SystemExit), repr(out.exception)
    assert out.exit_code == 2, out.output
    assert "Traceback" not in out.output and "error:" in out.output
    assert message in out.output


def test_bad_text_raises_parse_errors_in_the_library():
    for text, support, assume, values in [("exp(-x", None, "", ""), ("exp(-x)", "(0, oo", "", ""),
                                          ("exp(-r*x)*r", "[0, oo)", "r >", ""),
                                          ("exp(-r*x)*r", "[0, oo)", "r > 0", "r=(")]:
        with pytest.raises(ParseError, match="cannot read|a support is"):
            density(text, support, assume=assume, values=values)
    assert issubclass(DensityError, ValueError)
    for text, support in [("exp(-x)", "[x, oo)"), ("1", "{a, ...}")]:
        with pytest.raises(ValueError):
            density(text, support)


def test_supports_and_domains_are_read_as_written():
    fam = density(*BINOMIAL5).family
    assert fam.discrete and fam.support(*fam.symbols()) == sp.Range(0, 6)
    assert [p.domain for p in fam.params] == ["unit_open"]
    pareto = density("alpha*xm**alpha/x**(alpha + 1)", "[xm, oo)", assume="xm > 0, alpha > 0").family
    assert [p.name for p in pareto.params] == ["xm", "alpha"]  # support first, then the density
    assert density("1/3", "{0, 2, 5}").family.support() == sp.FiniteSet(0, 2, 5)
    assert density("1/2**(x + 1)", "(-1, oo)", True).family.support() == sp.Range(0, sp.oo)
    shifted = density("exp(-(x - m))", "[m, oo)", assume="m > 1").family
    assert shifted.violations({"m": sp.Rational(1, 2)}) == ["exp(-(x - m)) needs m > 1"]


def test_custom_results_render_through_the_engine_unchanged():
    runner = CliRunner()
    base = ["kl", "--p-density", EXP[0], "--q-density", EXP[0], "--support", EXP[1], "--assume", EXP[3]]
    for extra, text in [([], "rate_p, rate_q"), (["--json"], '"status": "closed"'), (["--latex"], "\\log"),
                        (["--python"], "def kl("), (["--steps"], "integration over")]:
        out = runner.invoke(app, base + extra)
        assert out.exit_code == 0 and text in out.output, (extra, out.output)
    from symkl.proof import prove
    assert prove(d(EXP), "exponential").proven


def test_claims_about_custom_densities_are_verified_and_diagnosed():
    from symkl.verify import verify
    result = kl(d(EXP), d(EXP))
    assert verify(result, "log(rate_p/rate_q) + rate_q/rate_p - 1").equivalent
    wrong = verify(result, "log(rate_q/rate_p) + rate_p/rate_q - 1", swapped=kl(d(EXP), d(EXP)))
    assert not wrong.equivalent and "direction is swapped" in wrong.diagnosis


def test_prove_and_check_take_custom_densities_in_the_cli():
    runner = CliRunner()
    proof = runner.invoke(app, ["prove", "--p-density", EXP[0], "gamma", "--support", EXP[1], "--assume", EXP[3]])
    assert proof.exit_code == 0 and "PROVEN" in proof.output and f"KL(P||P) = 0 for {EXP[0]}: PROVEN" in proof.output
    checked = runner.invoke(app, ["check", "--p-density", POISSON[0], "poisson", "--support", POISSON[1],
                                  "--assume", POISSON[3], "--points", "2"])
    assert checked.exit_code == 0 and checked.output.count("verified") == 3, checked.output
    alone = runner.invoke(app, ["check", "--p-density", POISSON[0], "--support", POISSON[1], "--assume", POISSON[3],
                                "--points", "1"])
    assert alone.exit_code == 0 and alone.output.startswith("entropy") and " verified," in alone.output, alone.output
