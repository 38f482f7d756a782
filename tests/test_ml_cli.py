"""The identities' commands through typer's CliRunner: output, JSON, exit codes, bad input as messages (exit 2),
and every --help example running with exit 0. Expected numbers are computed here with mpmath."""
from __future__ import annotations

import json
import shlex

import mpmath
import pytest
from typer.testing import CliRunner

from symkl.cli import app
from symkl.ml.divergence_commands import COMMANDS

runner = CliRunner()


def invoke(*args: str):
    result = runner.invoke(app, list(args), prog_name="symkl")
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return result


def coin_kl_bits() -> str:
    with mpmath.workdps(40):
        value = mpmath.mpf(7) / 10 * mpmath.log(mpmath.mpf(7) / 4, 2) + mpmath.mpf(3) / 10 * mpmath.log(
            mpmath.mpf(1) / 2, 2)
        return mpmath.nstr(value, 20)


def test_coding_the_coin():
    out = invoke("coding", "bernoulli(0.7)", "bernoulli(0.4)")
    assert out.exit_code == 0, out.output
    assert coin_kl_bits() in out.output                       # 0.26514844544032287521
    assert "17/10 = 1.7" in out.output and "FAIL" not in out.output
    assert "not a theorem" in out.output
    data = json.loads(invoke("coding", "bernoulli(0.7)", "bernoulli(0.4)", "--json").stdout)
    assert data["ok"] and data["kl_bits"]["bits"] == coin_kl_bits()
    assert [row["huffman"] for row in data["symbols"]] == ["0", "1"]


def test_distill_value_and_symbolic_form():
    out = invoke("distill", "--teacher", "1, 2, 3", "--student", "1, 2, 2.5", "--temperature", "2")
    assert out.exit_code == 0, out.output
    with mpmath.workdps(40):
        a, b = [mpmath.mpf(z) / 2 for z in (1, 2, 3)], [mpmath.mpf(z) / 2 for z in (1, 2, 2.5)]
        p = [mpmath.exp(x) / mpmath.fsum(map(mpmath.exp, a)) for x in a]
        q = [mpmath.exp(x) / mpmath.fsum(map(mpmath.exp, b)) for x in b]
        expected = mpmath.fsum(x * mpmath.log(x / y) for x, y in zip(p, q))
    assert mpmath.nstr(expected, 15) in out.output
    sym = invoke("distill", "--classes", "3")
    assert sym.exit_code == 0 and "proven" in sym.output and "log" in sym.output
    data = json.loads(invoke("distill", "--teacher", "1000, 0", "--student", "0, 1000", "--json").stdout)
    assert float(data["kl_float64"]) == 1000.0


@pytest.mark.slow   # over 8 s on the shared 2-core machine
def test_estimators_table():
    out = invoke("estimators", "categorical(0.5, 0.3, 0.2)", "categorical(0.2, 0.3, 0.5)")
    assert out.exit_code == 0, out.output
    for name in ("k1", "k2", "k3", "mean", "bias", "variance", "gradient bias"):
        assert name in out.output
    with mpmath.workdps(30):
        kl = mpmath.fsum(p * mpmath.log(p / q) for p, q in ((mpmath.mpf("0.5"), mpmath.mpf("0.2")),
                                                            (mpmath.mpf("0.3"), mpmath.mpf("0.3")),
                                                            (mpmath.mpf("0.2"), mpmath.mpf("0.5"))))
    assert mpmath.nstr(kl, 12) in out.output
    data = json.loads(invoke("estimators", "normal", "normal", "--json").stdout)
    assert [e["unbiased"].split()[0] for e in data["estimators"]] == ["yes", "no", "yes"]


def test_renyi_and_jeffreys():
    out = invoke("renyi", "normal(0, 1)", "normal(1, 1)", "--alpha", "0.5")
    # equal variances: D_alpha = alpha (mu_p - mu_q)^2 / (2 sigma^2) = 1/4
    assert out.exit_code == 0 and "1/4" in out.output and "proven" in out.output, out.output
    checked = invoke("renyi", "poisson(2)", "poisson(5)", "--alpha", "2", "--check")
    assert checked.exit_code == 0 and "50.0 digits agree" in checked.output, checked.output
    j = invoke("jeffreys", "bernoulli(0.7)", "bernoulli(0.4)", "--json")
    with mpmath.workdps(30):
        by_hand = mpmath.mpf("0.3") * mpmath.log(mpmath.mpf(7) / 4) + mpmath.mpf("-0.3") * mpmath.log(mpmath.mpf(1) / 2)
    assert json.loads(j.stdout)["value"] == mpmath.nstr(by_hand, 20)
    inf = invoke("renyi", "normal(0, 2)", "normal(1, 1)", "--alpha", "3")
    assert inf.exit_code == 0 and "infinite" in inf.output


@pytest.mark.parametrize("args, fragment", [
    (["coding", "categorical(0.5, 0.6)", "categorical(0.5, 0.5)"], "p1 + ... + pK = 1"),
    (["coding", "poisson(2)", "poisson(3)"], "infinitely many"),
    (["coding", "normall(0, 1)", "bernoulli(0.5)"], "Did you mean 'normal'"),
    (["coding", "bernoulli(1.5)", "bernoulli(0.5)"], "in [0, 1]"),
    (["distill", "--teacher", "1, 2", "--student", "1, 2", "--temperature", "-1"], "> 0"),
    (["distill", "--teacher", "1, 2", "--student", "1, 2", "--temperature", "0"], "> 0"),
    (["distill", "--teacher", "1, 2, 3", "--student", "1, 2"], "one per class"),
    (["distill", "--teacher", "1, __import__('os')", "--student", "1, 2"], "--teacher"),
    (["distill", "--teacher", "1, 2"], "both"),
    (["distill"], "--classes"),
    (["distill", "--classes", "1"], "classes"),
    (["renyi", "normal", "normal", "--alpha", "1"], "symkl kl"),
    (["renyi", "normal", "normal", "--alpha", "0"], "> 0"),
    (["renyi", "normal", "normal", "--alpha", "-2"], "> 0"),
    (["renyi", "laplace", "laplace", "--alpha", "0.5"], "exponential-family"),
    (["renyi", "normal", "normal", "--alpha", "0.5", "--check"], "every value"),
    (["jeffreys", "gausian", "normal"], "Did you mean"),
    (["estimators", "normal", "exponential"], "one family"),
    (["estimators", "laplace", "laplace"], "E_P[r^2]"),
])
def test_bad_input_is_a_message_with_exit_2(args, fragment):
    out = invoke(*args)
    assert out.exit_code == 2, out.output
    assert fragment in out.output and "error:" in out.output


def help_examples(command: str) -> list[str]:
    text = invoke(command, "--help").output
    lines = text.splitlines()
    found = []
    for line in lines[lines.index("  Examples:") + 1:]:
        if not line.startswith("    symkl "):
            break
        found.append(line.strip())
    return found


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_help_example_runs(command):
    examples = help_examples(command)
    assert examples and all(shlex.split(e)[1] == command for e in examples)
    for line in examples:
        out = invoke(*shlex.split(line)[1:])
        assert out.exit_code == 0, (line, out.output)


def test_derive_ml_writes_only_the_identities_pages(tmp_path):
    """--ml's pages are the identities' (all nine are compared with the committed book in test_book); two of them
    are written here through the command."""
    from symkl.book import pages
    assert sorted(pages(ml_only=True)) == ["ml/coding.md", "ml/direction.md", "ml/distill.md", "ml/elbo.md",
                                           "ml/estimators.md", "ml/fisher.md", "ml/fit.md", "ml/jeffreys.md",
                                           "ml/renyi.md"]
    out = invoke("derive", "--ml", "--out", str(tmp_path), "--only", "ml/[cr]*.md")
    assert out.exit_code == 0, out.output
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.md"))
    assert written == ["ml/coding.md", "ml/renyi.md"]
    page = (tmp_path / "ml" / "renyi.md").read_text()
    assert "$$" in page and "digits agreeing" in page
    (tmp_path / "ml" / "coding.md").write_text("changed")
    stale = invoke("derive", "--ml", "--check", "--out", str(tmp_path), "--only", "ml/[cr]*.md")
    assert stale.exit_code == 1 and "ml/coding.md" in stale.output and "ml/renyi.md" not in stale.output


def test_distill_logits_beyond_float64_are_said_so_not_nan():
    """1e400 is an exact input (the 50-digit value is right) but no float64: the float line says so."""
    out = invoke("distill", "--teacher", "1e400, 0", "--student", "1, 2")
    assert out.exit_code == 0 and "not representable" in out.output and "nan" not in out.output, out.output
    with mpmath.workdps(40):
        assert mpmath.nstr(mpmath.log1p(mpmath.e), 15) in out.output      # p = (1, 0): KL = -log q1 = log(1 + e)
    data = json.loads(invoke("distill", "--teacher", "1e400, 0", "--student", "1, 2", "--json").stdout)
    assert data["kl_float64"] is None


def test_coding_with_a_zero_in_q_is_infinite_not_an_error():
    out = invoke("coding", "categorical(0.5, 0.25, 0.25)", "categorical(0.5, 0.5, 0)")
    assert out.exit_code == 0 and "KL(P||Q) = oo bits" in out.output and "no codeword" in out.output, out.output


def test_an_infinite_jeffreys_divergence_says_infinite_plainly():
    out = invoke("jeffreys", "normal(0, 1)", "uniform(0, 1)")
    assert out.exit_code == 0 and out.output.splitlines()[-1] == "infinite" and "False" not in out.output, out.output
