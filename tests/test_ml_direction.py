"""Forward against reverse KL for one normal fitted to a mixture: the forward fit against moment matching typed
here, the reverse fit against an independent mpmath evaluation of KL(Q||P), the mixture syntax's errors, and the
optional plot (with matplotlib missing simulated)."""
from __future__ import annotations

import builtins
import json
import os
import sys

import mpmath
import numpy as np
import pytest
import sympy as sp

from symkl.family import FamilyError
from symkl.ml.direction import direction, mixture

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # any --import-mode
from test_cli import invoke

TWO_MODES = "0.5*normal(-2, 0.6) + 0.5*normal(2, 0.6)"


@pytest.fixture(scope="module")
def two_modes():
    return direction(TWO_MODES)


def reverse_kl(mu, sigma) -> mpmath.mpf:
    """KL(normal(mu, sigma) || 0.5 N(-2, 0.6) + 0.5 N(2, 0.6)) by mpmath quadrature of typed densities."""
    with mpmath.workdps(30):
        def log_n(x, m, s):
            return -(x - m)**2 / (2 * s**2) - mpmath.log(s) - mpmath.log(2 * mpmath.pi) / 2

        sd = mpmath.mpf(3) / 5

        def log_p(x):
            return mpmath.log(mpmath.exp(log_n(x, -2, sd)) / 2 + mpmath.exp(log_n(x, 2, sd)) / 2)
        mu, sigma = mpmath.mpf(mu), mpmath.mpf(sigma)
        return mpmath.quad(lambda x: mpmath.exp(log_n(x, mu, sigma)) * (log_n(x, mu, sigma) - log_p(x)),
                           [-mpmath.inf, -2, mu, 2, mpmath.inf])


@pytest.mark.slow   # the two_modes fixture runs the reverse fit: 12 s here
def test_forward_is_moment_matching(two_modes):
    mu_q, sigma_q = sp.Symbol("mu_q", real=True), sp.Symbol("sigma_q", positive=True)
    w, m, s = sp.Rational(1, 2), 2, sp.Rational(3, 5)
    mean = w * (-m) + w * m
    variance = w * (s**2 + m**2) + w * (s**2 + m**2) - mean**2   # E[X^2] - E[X]^2, typed
    assert two_modes.forward == {mu_q: mean, sigma_q: sp.sqrt(variance)}
    assert two_modes.forward_digits >= 35
    w1, w2 = sp.symbols("w1 w2", positive=True)
    s1, s2 = sp.symbols("sigma1 sigma2", positive=True)
    m1, m2 = sp.symbols("mu1 mu2", real=True)
    general = two_modes.forward_general
    assert sp.simplify(general[sigma_q]**2 - (w1 * s1**2 + w2 * s2**2 + w1 * w2 * (m1 - m2)**2)) == 0


@pytest.mark.slow   # the two_modes fixture runs the reverse fit: 12 s here
def test_reverse_seeks_a_mode_and_is_a_minimum(two_modes):
    mu, sigma = two_modes.reverse.values()
    assert abs(abs(mu) - 2) < 0.01 and abs(sigma - 0.6) < 0.01          # one mode, not both
    best = reverse_kl(mu, sigma)
    assert abs(best - two_modes.reverse_kl) < 1e-12
    for dm, ds in ((0.01, 0), (-0.01, 0), (0, 0.01), (0, -0.01)):
        assert reverse_kl(mu + dm, sigma + ds) > best
    forward = [float(v) for v in two_modes.forward.values()]
    assert reverse_kl(*forward) > best + 0.3                              # covering both modes costs in reverse KL
    assert len(two_modes.starts) >= 3


@pytest.mark.slow   # the two_modes fixture runs the reverse fit: 12 s here
def test_forward_kl_value_by_independent_quadrature(two_modes):
    with mpmath.workdps(30):
        s, sd = mpmath.sqrt(109) / 5, mpmath.mpf(3) / 5

        def log_n(x, m, sd):
            return -(x - m)**2 / (2 * sd**2) - mpmath.log(sd) - mpmath.log(2 * mpmath.pi) / 2

        def p(x):
            return mpmath.exp(log_n(x, -2, sd)) / 2 + mpmath.exp(log_n(x, 2, sd)) / 2
        value = mpmath.quad(lambda x: p(x) * (mpmath.log(p(x)) - log_n(x, 0, s)), [-mpmath.inf, -2, 0, 2, mpmath.inf])
        assert abs(value - two_modes.forward_kl) < 1e-25


@pytest.mark.slow   # over 8 s on the shared 2-core machine
def test_reverse_is_infinite_when_the_mixture_misses_part_of_the_line():
    d = direction("0.5*gamma(2, 1) + 0.5*normal(0, 1)")
    assert d.reverse is None and "infinite" in d.reverse_note
    assert d.forward[sp.Symbol("mu_q", real=True)] == 1


@pytest.mark.parametrize("text, message", [
    ("0.5*normal(0, 1) + 0.4*normal(1, 1)", "sum to 0.9"),
    ("1.5*normal(0, 1) + -0.5*normal(1, 1)", "must be a positive number"),
    ("0.5*normal(0, -1) + 0.5*normal(1, 1)", "sigma must be > 0"),
    ("0.5*norml(0, 1) + 0.5*normal(1, 1)", "unknown family"),
    ("0.5*poisson(2) + 0.5*normal(1, 1)", "univariate continuous"),
    ("0.5*normal(0, _) + 0.5*normal(1, 1)", "give every parameter"),
    ("normal(0, 1)", "a mixture is a sum"),
    ("0.5*normal(0, 1) + __import__('os')", "a mixture is a sum"),
    ("__import__('os')*normal(0, 1)", "not allowed"),
])
def test_bad_mixtures(text, message):
    with pytest.raises(FamilyError, match=message):
        mixture(text)


@pytest.mark.slow   # over 8 s on the shared 2-core machine
def test_cli_direction_text_and_json():
    out = invoke("direction", TWO_MODES, "--json")
    data = json.loads(out.stdout)
    assert out.exit_code == 0 and data["forward"] == {"mu_q": "0", "sigma_q": "sqrt(109)/5"}
    assert abs(abs(data["reverse"]["mu_q"]) - 2) < 0.01


@pytest.mark.parametrize("args, message", [
    (("0.5*normal(0, 1) + 0.6*normal(1, 1)",), "sum to 1.1"),
    (("0.5*normal(0, -1) + 0.5*normal(1, 1)",), "sigma must be > 0"),
    (("0.5*nrmal(0, 1) + 0.5*normal(1, 1)",), "unknown family"),
    ((TWO_MODES, "--plot", "/nonexistent-folder/out.png"), "does not exist"),
])
def test_cli_direction_bad_input_is_exit_2(args, message):
    out = invoke("direction", *args)
    assert out.exit_code == 2 and message in out.output, out.output


@pytest.mark.slow   # over 8 s on the shared 2-core machine
def test_cli_plot_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    target = tmp_path / "out.png"
    out = invoke("direction", TWO_MODES, "--plot", str(target))
    assert out.exit_code == 0 and f"plot written to {target}" in out.output
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_plot_to_a_folder_is_exit_2(tmp_path):
    out = invoke("direction", TWO_MODES, "--plot", str(tmp_path))
    assert out.exit_code == 2 and "it is a folder" in out.output


def test_cli_plot_to_a_file_that_is_not_png_is_exit_2(tmp_path):
    out = invoke("direction", TWO_MODES, "--plot", str(tmp_path / "out.txt"))
    assert out.exit_code == 2 and "ending in .png" in out.output, out.output


def test_cli_plot_without_matplotlib_names_the_extra(monkeypatch, tmp_path):
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    out = invoke("direction", TWO_MODES, "--plot", str(tmp_path / "out.png"))
    assert out.exit_code == 2 and 'pip install "symkl[plot]"' in out.output
    assert not (tmp_path / "out.png").exists()


@pytest.mark.slow
def test_reverse_from_a_wide_start_far_from_a_small_far_mode():
    """0.999 N(0, 1) + 0.001 N(1000, 0.01): from the forward fit N(1, 31.6) the mixture's density underflows
    in float64 where Q still has mass; the log-density must not (it read KL = inf there and BFGS never moved).
    KL(N(0, 1)||P) = -log 0.999 up to the far mode's negligible density."""
    d = direction("0.999*normal(0, 1) + 0.001*normal(1000, 0.01)")
    assert all(np.isfinite(kl) for _, _, kl in d.starts), d.starts
    (_, reached, _), = [t for t in d.starts if t[0][1] > 10]              # the start at the forward fit
    assert abs(reached[0]) < 1e-6 and abs(reached[1] - 1) < 1e-6
    assert abs(d.reverse_kl + mpmath.log(mpmath.mpf("0.999"))) < 1e-15
