"""Tests of the symkl command line through typer's CliRunner: output, JSON, exit codes and error messages.

Expected formulas and values are typed here from textbooks; nothing from symkl computes an expected value.
"""
from __future__ import annotations

import json
import re

import mpmath
import pytest
import sympy as sp
from sympy.parsing.sympy_parser import parse_expr
from typer.testing import CliRunner

from symkl.cli import app

runner = CliRunner()

mu_p, mu_q = sp.symbols("mu_p mu_q", real=True)
sigma_p, sigma_q = sp.symbols("sigma_p sigma_q", positive=True)
shape, rate, rate_p, shape_q, rate_q = sp.symbols("shape rate rate_p shape_q rate_q", positive=True)
low_p, high_p, low_q, high_q = sp.symbols("low_p high_p low_q high_q", real=True)
SYMBOLS = {s.name: s for s in (mu_p, mu_q, sigma_p, sigma_q, shape, rate, rate_p, shape_q, rate_q,
                               low_p, high_p, low_q, high_q)}

NORMAL_KL = sp.log(sigma_q / sigma_p) + (sigma_p**2 + (mu_p - mu_q)**2) / (2 * sigma_q**2) - sp.Rational(1, 2)
GAMMA_ENTROPY = shape - sp.log(rate) + sp.loggamma(shape) + (1 - shape) * sp.polygamma(0, shape)
# H(Exp(rate_p), Gamma(shape_q, rate_q)) = -E[log q(X)], with E[X] = 1/rate_p, E[log X] = -gamma - log(rate_p)
EXP_GAMMA_CROSS = (-shape_q * sp.log(rate_q) + sp.loggamma(shape_q) + (shape_q - 1) * (sp.EulerGamma + sp.log(rate_p))
                   + rate_q / rate_p)
CORE_FAMILIES = ["normal", "lognormal", "exponential", "gamma", "beta", "uniform", "laplace", "bernoulli",
                 "binomial", "geometric", "poisson", "categorical"]


def invoke(*args: str):
    result = runner.invoke(app, list(args))
    # a crash inside a command shows up as an exception other than SystemExit: never acceptable
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return result


def invoke_json(*args: str) -> dict:
    result = invoke(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def parsed(text: str) -> sp.Expr:
    return parse_expr(text, local_dict=dict(SYMBOLS))


def bernoulli_kl_nats() -> mpmath.mpf:
    """KL(Bernoulli(0.7) || Bernoulli(0.4)) = 0.7 log(0.7/0.4) + 0.3 log(0.3/0.6), at 40 digits."""
    with mpmath.workdps(40):
        return mpmath.mpf(7) / 10 * mpmath.log(mpmath.mpf(7) / 4) + mpmath.mpf(3) / 10 * mpmath.log(mpmath.mpf(1) / 2)


# ------------------------------------------------------------------ normal || normal

def test_kl_normal_normal_pretty_prints_the_formula():
    result = invoke("kl", "normal", "normal")
    assert result.exit_code == 0
    out = result.stdout
    assert "KL(normal||normal)" in out and "[nats]" in out
    for piece in ("log", "σ_q", "σₚ", "μₚ", "μ_q"):
        assert piece in out, piece
    assert "parameters: mu_p, sigma_p, mu_q, sigma_q" in out


def test_kl_normal_normal_json_is_the_textbook_formula():
    out = invoke_json("kl", "normal", "normal")
    assert {"expr", "symbols", "latex", "conditions", "status"} <= set(out)
    assert out["symbols"] == ["mu_p", "sigma_p", "mu_q", "sigma_q"]
    assert out["status"] == "closed"
    assert out["conditions"] == "True"
    assert "value" not in out  # free parameters: no number
    assert sp.simplify(parsed(out["expr"]) - NORMAL_KL) == 0


# ------------------------------------------------------------------ numbers and bases

@pytest.mark.parametrize("base, divisor, unit", [
    ("e", 1, "nats"),
    ("2", 2, "bits"),
    ("10", 10, "hartleys"),
], ids=["nats", "bits", "hartleys"])
def test_bernoulli_value_in_each_base(base, divisor, unit):
    out = invoke_json("kl", "bernoulli(0.7)", "bernoulli(0.4)", "--base", base)
    assert out["status"] == "closed" and out["symbols"] == [] and out["unit"] == unit
    with mpmath.workdps(40):
        expected = bernoulli_kl_nats() / (mpmath.log(divisor) if divisor != 1 else 1)
        assert abs(mpmath.mpf(out["value"]) - expected) < mpmath.mpf("1e-29")
        # the expression itself is exact and evaluates to the same number
        assert abs(mpmath.mpf(sp.N(parsed(out["expr"]), 40)) - expected) < mpmath.mpf("1e-35")


def test_bernoulli_text_shows_the_decimal_value():
    result = invoke("kl", "bernoulli(0.7)", "bernoulli(0.4)", "--base", "2")
    assert result.exit_code == 0
    assert "[bits]" in result.stdout
    # 0.18378689738681228756... nats / log 2 = 0.26514844544032287520... bits
    assert re.search(r"= 0\.2651484454403228752\d* bits", result.stdout), result.stdout


# ------------------------------------------------------------------ infinite and conditional

def test_kl_normal_exponential_is_infinite_and_names_the_region():
    result = invoke("kl", "normal", "exponential")
    assert result.exit_code == 0
    assert "infinite" in result.stdout
    assert "(-oo, 0)" in result.stdout
    assert "∞" in result.stdout


@pytest.mark.parametrize("p, q, status, expected", [
    ("normal", "exponential", "infinite", sp.oo),
    ("uniform(0, 1)", "uniform(0, 2)", "closed", sp.log(2)),
    ("uniform(0, 2)", "uniform(0, 1)", "infinite", sp.oo),
    ("uniform(-1, 1)", "uniform(-2, 3)", "closed", sp.log(sp.Rational(5, 2))),
    ("uniform(-1, 1)", "uniform(0, 3)", "infinite", sp.oo),
], ids=["normal||exponential", "u01||u02", "u02||u01", "inside", "sticks-out-left"])
def test_kl_specialized_status_and_expr(p, q, status, expected):
    out = invoke_json("kl", p, q)
    assert out["status"] == status
    expr = parsed(out["expr"])
    if expected == sp.oo:
        assert expr == sp.oo
    else:
        assert sp.simplify(expr - expected) == 0
    if status == "infinite":
        assert out["reason"]
        assert "value" not in out or out["value"] == "oo"
    else:
        assert out["reason"] == ""  # a result that is finite has nothing to explain
        with mpmath.workdps(40):
            assert abs(mpmath.mpf(out["value"]) - mpmath.mpf(sp.N(expected, 40))) < mpmath.mpf("1e-29")


def test_kl_uniform_uniform_is_conditional():
    out = invoke_json("kl", "uniform", "uniform")
    assert out["status"] == "conditional"
    expr = parsed(out["expr"])
    assert isinstance(expr, sp.Piecewise)
    assert expr.args[-1] == (sp.oo, True)
    inside = {low_p: 0, high_p: 1, low_q: -1, high_q: 2}
    outside = {low_p: -2, high_p: 1, low_q: -1, high_q: 2}
    assert sp.simplify(expr.subs(inside) - sp.log(3)) == 0
    assert expr.subs(outside) == sp.oo
    assert parsed(out["conditions"]).subs(inside) is sp.true
    assert parsed(out["conditions"]).subs(outside) is sp.false


def test_kl_uniform_text_says_infinite():
    result = invoke("kl", "uniform(0, 2)", "uniform(0, 1)")
    assert result.exit_code == 0
    assert "infinite" in result.stdout and "∞" in result.stdout


# ------------------------------------------------------------------ other commands and output modes

@pytest.mark.parametrize("args, expected", [
    (("entropy", "gamma"), GAMMA_ENTROPY),
    (("cross-entropy", "exponential", "gamma"), EXP_GAMMA_CROSS),
], ids=["entropy-gamma", "cross-entropy-exponential-gamma"])
def test_entropy_and_cross_entropy_formulas(args, expected):
    text = invoke(*args)
    assert text.exit_code == 0
    assert "loggamma" in text.stdout
    out = invoke_json(*args)
    assert out["status"] == "closed"
    assert sp.simplify(parsed(out["expr"]) - expected) == 0


def test_entropy_gamma_text():
    result = invoke("entropy", "gamma")
    assert result.exit_code == 0
    assert "H(gamma)" in result.stdout
    assert "polygamma" in result.stdout
    assert "parameters: shape, rate" in result.stdout


@pytest.mark.parametrize("args, pieces", [
    (("kl", "normal", "normal"), [r"\log", r"\sigma_{q}", r"\mu_{p}", r"\frac"]),
    (("entropy", "gamma"), [r"\log\Gamma\left(shape\right)", r"\psi\left(shape\right)"]),
    (("kl", "normal", "exponential"), [r"\infty"]),
], ids=["kl-normal", "entropy-gamma", "infinite"])
def test_latex_output(args, pieces):
    result = invoke(*args, "--latex")
    assert result.exit_code == 0
    for piece in pieces:
        assert piece in result.stdout, piece
    assert "σ" not in result.stdout  # LaTeX, not the unicode pretty print


@pytest.mark.parametrize("args", [
    ("kl", "normal", "normal"),
    ("entropy", "gamma"),
    ("cross-entropy", "exponential", "gamma"),
], ids=["kl", "entropy", "cross-entropy"])
def test_steps_show_the_derivation(args):
    plain = invoke(*args)
    result = invoke(*args, "--steps")
    assert result.exit_code == 0
    assert "Derivation" in result.stdout and "Derivation" not in plain.stdout
    assert "log p(x)" in result.stdout
    assert len(result.stdout.splitlines()) > len(plain.stdout.splitlines()) + 2


def test_families_lists_the_core_catalog():
    result = invoke("families")
    assert result.exit_code == 0
    for name in CORE_FAMILIES:
        assert re.search(rf"^{name}\b", result.stdout, re.M), name


def test_families_json():
    result = invoke("families", "--json")
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert isinstance(rows, list) and all(isinstance(r, dict) for r in rows)
    names = [r["name"].split("[")[0] for r in rows]
    assert set(CORE_FAMILIES) <= set(names)
    assert len(names) == len(set(names))
    kinds = {r["name"].split("[")[0]: r["kind"] for r in rows}
    assert kinds["normal"] == "continuous" and kinds["poisson"] == "discrete"


# ------------------------------------------------------------------ prove

@pytest.mark.parametrize("p, q", [
    ("normal", "normal"),
    ("bernoulli(0.7)", "bernoulli(0.4)"),
    ("bernoulli(1)", "bernoulli(0.4)"),       # p on the boundary: the natural parameter is infinite
    ("geometric(1)", "geometric(0.5)"),
    ("binomial(n, 0.3)", "binomial(n, 0.5)"),  # a shared symbol named like the parameter
    ("normal", "exponential"),
], ids=["normal", "bernoulli-values", "bernoulli-boundary", "geometric-boundary", "binomial-shared-n",
        "infinite"])
def test_prove_exits_0_when_proven(p, q):
    result = invoke("prove", p, q)
    assert result.exit_code == 0, result.output
    assert ": PROVEN" in result.stdout
    assert "KL(P||P) = 0" in result.stdout and result.stdout.rstrip().endswith("PROVEN")


def test_prove_json():
    result = invoke("prove", "normal", "normal", "--json")
    assert result.exit_code == 0
    out = json.loads(result.stdout)
    assert out == {"p": "normal", "q": "normal", "status": "proven", "self_divergence": "proven", "proven": True}


@pytest.mark.parametrize("status, self_status, code", [
    ("proven", "proven", 0),
    ("numerically confirmed", "proven", 1),
    ("failed", "proven", 1),
    ("proven", "failed", 1),
], ids=["proven", "numeric", "failed", "self-failed"])
def test_prove_exit_code_follows_the_status(monkeypatch, status, self_status, code):
    """Only an exact proof of both identities exits 0 (a numeric confirmation is not a proof)."""
    import symkl.proof

    def fake(p, q):
        return symkl.proof.Proof(p, q, status, (), self_status)
    monkeypatch.setattr(symkl.proof, "prove", fake)
    result = invoke("prove", "normal", "normal")
    assert result.exit_code == code
    assert f": {status.upper()}" in result.stdout
    assert result.stdout.rstrip().endswith(self_status.upper())


# ------------------------------------------------------------------ bad input

BAD_INPUT = [
    ("unknown-family", ("kl", "nromal", "normal"), ["Did you mean 'normal'"]),
    ("negative-sigma", ("kl", "normal(0, -1)", "normal"), ["sigma", "> 0"]),
    ("zero-sigma-keyword", ("kl", "normal(sigma=0)", "normal"), ["sigma", "> 0"]),
    ("bernoulli-p", ("kl", "bernoulli(1.5)", "bernoulli"), ["p must be", "[0, 1]"]),
    ("uniform-order", ("kl", "uniform(2, 1)", "uniform"), ["low < high"]),
    ("categorical-sum", ("kl", "categorical(0.5, 0.6)", "categorical[2]"), ["p1 + ... + pK = 1"]),
    ("categorical-no-K", ("kl", "categorical", "categorical[3]"), ["categorical[3]"]),
    ("too-many-args", ("kl", "normal(1, 2, 3)", "normal"), ["2 parameter"]),
    ("unknown-keyword", ("kl", "normal(foo=1)", "normal"), ["'foo'"]),
    ("binomial-n", ("kl", "binomial(2.5, 0.3)", "binomial"), ["n must be", "positive integer"]),
    ("in-q-position", ("kl", "normal", "normal(0, -1)"), ["sigma"]),
    ("entropy", ("entropy", "poisson(-1)"), ["rate", "> 0"]),
    ("cross-entropy", ("cross-entropy", "normal", "gama"), ["Did you mean 'gamma'"]),
    ("prove", ("prove", "bernoulli(2)", "bernoulli"), ["p must be"]),
    ("import", ("kl", "__import__('os')", "normal"), ["cannot read the distribution"]),
    ("dunder-attr", ("kl", "normal(0, 1).__class__", "normal"), ["cannot read the distribution"]),
    ("subclasses", ("kl", "().__class__.__bases__[0].__subclasses__()", "normal"), ["cannot read the distribution"]),
    ("exec", ("kl", "normal(exec('import os'), 1)", "normal"), ["cannot read the distribution"]),
    ("statement", ("kl", "normal(0, 1); import os", "normal"), ["cannot read the distribution"]),
    ("lambda", ("kl", "lambda: 0", "normal"), ["cannot read the distribution"]),
    ("huge-power", ("kl", "normal(0, 10**10**10)", "normal"), ["cannot read the distribution"]),
    ("empty", ("kl", "", "normal"), ["cannot read the distribution"]),
    ("nan-name", ("kl", "bernoulli(nan)", "bernoulli"), ["'nan' is not a number"]),
    ("shared-name-two-kinds", ("kl", "normal(a, a)", "normal"), ["shared name 'a'"]),
    ("shared-name-across-specs", ("kl", "binomial(n, 0.3)", "poisson(n)"), ["shared name 'n'"]),
]


@pytest.mark.parametrize("args, needles", [(a, n) for _, a, n in BAD_INPUT], ids=[i for i, _, _ in BAD_INPUT])
def test_bad_input_exits_2_with_a_message(args, needles):
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    for needle in needles:
        assert needle in result.stderr, (needle, result.stderr)


@pytest.mark.parametrize("base", ["3", "bits", ""], ids=["three", "word", "empty"])
def test_unsupported_base_is_a_usage_error(base):
    result = invoke("kl", "normal", "normal", "--base", base)
    assert result.exit_code == 2
    assert "--base" in result.output


# ------------------------------------------------------------------ catalog

@pytest.fixture(scope="module")
def catalog_output():
    rows = [arg for name in ("normal", "laplace", "poisson", "geometric", "mvnormal[2]") for arg in ("--p", name)]
    result = runner.invoke(app, ["catalog", "--workers", "1", *rows])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def _row(output: str, name: str) -> dict[str, str]:
    """P's row of the KL matrix, by column label (each group's columns are named in its "columns:" line)."""
    columns = None
    for line in output.splitlines():
        if line.startswith("columns: "):
            columns = [item.split(" ", 1)[1] for item in line[len("columns: "):].split(", ")]
        elif line.split()[:1] == [name]:
            return dict(zip(columns, line.split()[1:]))
    raise AssertionError((name, output))


def test_catalog_exits_0(catalog_output):
    assert catalog_output.exit_code == 0, catalog_output.output
    assert "Traceback" not in catalog_output.output


@pytest.mark.parametrize("name, row", [
    # '-': E[log(1 + ...)] under a normal or laplace has no closed form (Q = cauchy, logistic, studentt)
    ("normal", {"normal": "=", "lognormal": "oo", "exponential": "oo", "gamma": "oo", "beta": "oo",
                "uniform": "oo", "laplace": "=", "halfnormal": "oo", "pareto": "oo", "levy": "oo", "gumbel": "=",
                "cauchy": "-", "logistic": "-", "studentt": "-", "moyal": "=", "vonmises": "oo"}),
    # laplace||gumbel: E[exp(-x/s)] under a laplace is finite only for s > scale_p (its MGF's domain)
    ("laplace", {"normal": "=", "lognormal": "oo", "exponential": "oo", "gamma": "oo", "beta": "oo",
                 "uniform": "oo", "laplace": "=", "gumbel": "?", "cauchy": "-", "moyal": "?"}),
    ("poisson", {"bernoulli": "oo", "binomial": "oo", "geometric": "=", "negativebinomial": "=", "poisson": "=",
                 "categorical[3]": "oo"}),
    ("geometric", {"bernoulli": "oo", "binomial": "oo", "geometric": "=", "negativebinomial": "=", "poisson": "=",
                   "categorical[3]": "oo"}),
    ("mvnormal[2]", {"diagnormal[2]": "=", "mvnormal[2]": "="}),
], ids=["normal", "laplace", "poisson", "geometric", "mvnormal"])
def test_catalog_rows(catalog_output, name, row):
    """Supports decide the oo entries: a real-line P against a half-line or bounded Q, an unbounded count
    against a bounded one; the same-support pairs have textbook closed forms."""
    cells = _row(catalog_output.stdout, name)
    assert {label: cells[label] for label in row} == row


def test_catalog_counts(catalog_output):
    """Each row's P against every Q of its group (continuous; discrete with categorical[3]; diagnormal[2] with
    mvnormal[2]) for kl and cross_entropy, and each row's entropy."""
    from symkl.catalog import groups
    sizes = [len(g) for g in groups()]
    counts = {}
    for line in catalog_output.stdout.splitlines():
        m = re.match(r"(kl|cross_entropy|entropy): (.*)", line)
        if m:
            counts[m.group(1)] = sum(int(n) for n in re.findall(r"(\d+) [a-z-]+", m.group(2)))
    pairs = 2 * sizes[0] + 2 * sizes[1] + 2   # rows normal, laplace; poisson, geometric; mvnormal[2]
    assert counts == {"kl": pairs, "cross_entropy": pairs, "entropy": 5}
    assert sizes[-3:] == [1, 2, 1] and sizes[0] >= 7 and sizes[1] >= 5
    assert not re.search(r"^(gamma|bernoulli|dirichlet)", catalog_output.stdout, re.M)   # rows not asked for


def test_a_worker_that_dies_is_a_message_and_exit_4(monkeypatch):
    from concurrent.futures.process import BrokenProcessPool

    import symkl.catalog

    def killed(*args):
        raise BrokenProcessPool("A process in the process pool was terminated abruptly")
    monkeypatch.setattr(symkl.catalog, "summary", killed)
    out = runner.invoke(app, ["catalog", "--p", "normal"])
    assert out.exit_code == 4 and "--workers 1" in out.output, out.output
    assert out.exception is None or isinstance(out.exception, SystemExit), repr(out.exception)


def test_catalog_row_of_an_unknown_family_is_exit_2():
    out = runner.invoke(app, ["catalog", "--p", "normal", "--p", "nosuchfamily"])
    assert out.exit_code == 2 and "nosuchfamily" in out.output and "Traceback" not in out.output, out.output
    out = runner.invoke(app, ["catalog", "--p", "mvnormal[3]"])   # a family, but not in the matrix
    assert out.exit_code == 2 and "not in the catalog" in out.output, out.output
