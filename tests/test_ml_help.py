"""The identities' commands show runnable examples in their --help, and each example runs with exit 0."""
from __future__ import annotations

import os
import shlex
import sys

import pytest
from typer.testing import CliRunner

from symkl.cli import app

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # any --import-mode
from test_help import examples

runner = CliRunner()
COMMANDS = [["fit"], ["elbo"], ["fisher"], ["trust-region"], ["direction"]]


@pytest.mark.slow   # over 8 s on the shared 2-core machine
@pytest.mark.parametrize("command", COMMANDS, ids=[c[0] for c in COMMANDS])
def test_examples_run_with_exit_0(command):
    found = examples(command)
    assert found and all(shlex.split(line)[1] == command[0] for line in found), found
    for line in found:
        out = runner.invoke(app, shlex.split(line)[1:], prog_name="symkl")
        assert out.exception is None or isinstance(out.exception, SystemExit), (line, repr(out.exception))
        assert out.exit_code == 0, (line, out.output)


def test_the_commands_are_listed_in_the_main_help():
    text = runner.invoke(app, ["--help"], prog_name="symkl").output
    assert all(c[0] in text for c in COMMANDS)
