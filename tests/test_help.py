"""Every command's --help shows examples, and each example runs with exit 0; shell completion is available."""
from __future__ import annotations

import shlex

import pytest
from typer.testing import CliRunner

from symkl.cli import app

runner = CliRunner()
COMMANDS = [[], ["kl"], ["entropy"], ["cross-entropy"], ["prove"], ["check"], ["derive"], ["expect"], ["families"],
            ["catalog"], ["verify"], ["verify", "kl"], ["verify", "entropy"], ["verify", "expectation"],
            ["verify", "cross-entropy"]]


def examples(command: list[str]) -> list[str]:
    """The lines under 'Examples:' in the command's help, each a full `symkl ...` command line."""
    out = runner.invoke(app, [*command, "--help"], prog_name="symkl")
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    start = lines.index("  Examples:") + 1
    found = []
    for line in lines[start:]:
        if not line.startswith("    symkl "):
            break
        found.append(line.strip())
    return found


@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c) or "symkl" for c in COMMANDS])
def test_every_help_shows_examples_for_its_own_command(command):
    found = examples(command)
    assert found, f"no examples in the help of {command}"
    if command:
        assert all(shlex.split(line)[1:1 + len(command)] == command or line.startswith("symkl --timeout")
                   for line in found), found


ALL_EXAMPLES = list(dict.fromkeys(line for command in COMMANDS for line in examples(command)))


def test_examples_cover_custom_densities():
    assert any("--p-density" in line for line in ALL_EXAMPLES)
    assert any("--density" in line for line in ALL_EXAMPLES)


def test_every_example_runs_with_exit_0(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # `symkl derive --all` writes its book here
    for line in ALL_EXAMPLES:
        out = runner.invoke(app, shlex.split(line)[1:], prog_name="symkl")
        assert out.exception is None or isinstance(out.exception, SystemExit), (line, repr(out.exception))
        assert out.exit_code == 0, (line, out.output)


def test_shell_completion_script_and_answers(monkeypatch):
    # the shell named on the command line, not detected from the processes this test runs under
    monkeypatch.setenv("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", "1")
    for shell in ("bash", "zsh"):
        out = runner.invoke(app, ["--show-completion", shell], prog_name="symkl", env={"SHELL": f"/bin/{shell}"})
        assert out.exit_code == 0 and "_SYMKL_COMPLETE" in out.output and "symkl" in out.output, out.output
    help_text = runner.invoke(app, ["--help"], prog_name="symkl").output
    assert "--install-completion" in help_text and "--show-completion" in help_text
    answer = runner.invoke(app, [], prog_name="symkl",
                           env={"_SYMKL_COMPLETE": "complete_bash", "COMP_WORDS": "symkl kl --p-d", "COMP_CWORD": "2"})
    assert answer.output.split() == ["--p-density"]
