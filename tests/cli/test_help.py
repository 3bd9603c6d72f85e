"""Every way a user asks for help, and the usage errors beside them, as a shell runs them.

Help exits 0 and prints usage on stdout; a usage error exits 2 with one line on stderr; neither
prints a traceback (issue 18, item 1: `flowc --help` used to print `trigger`'s usage error).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from flowc.backends import TARGETS
from flowc.cli import COMMANDS

ROOT = Path(__file__).resolve().parents[2]
HELLO = ROOT / "examples" / "hello_flow.py"
FLOWC = [sys.executable, "-m", "flowc"]
FLOW_FILE = [sys.executable, str(HELLO)]


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=ROOT)


def _assert_help(result: subprocess.CompletedProcess[str], usage: str) -> None:
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.startswith(f"usage: {usage}"), result.stdout


def _assert_usage_error(result: subprocess.CompletedProcess[str], says: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert says in result.stderr, result.stderr


@pytest.mark.parametrize("argv", [[], ["--help"], ["-h"]], ids=["bare", "--help", "-h"])
def test_top_level_help_lists_every_command(argv: list[str]) -> None:
    for result in (_run(FLOWC + argv), _run(FLOW_FILE + argv)):
        _assert_help(result, "flowc")
        for command in COMMANDS:
            assert f"    {command} " in result.stdout, command


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_help(command: str) -> None:
    _assert_help(_run([*FLOWC, command, "--help"]), f"flowc {command}")
    # `python FLOW.py COMMAND --help` is the same command.
    _assert_help(_run([*FLOW_FILE, command, "--help"]), f"flowc {command}")


@pytest.mark.parametrize("target", sorted(TARGETS))
@pytest.mark.parametrize("command", ["compile", "deploy", "trigger"])
def test_target_commands_have_help_with_the_targets_options(command: str, target: str) -> None:
    result = _run([*FLOWC, command, str(HELLO), "--target", target, "--help"])
    _assert_help(result, f"flowc {command}")


def test_run_help_lists_the_flows_parameters() -> None:
    result = _run([*FLOW_FILE, "run", "--help"])
    _assert_help(result, "flowc run")
    assert "--name" in result.stdout


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["bogus"], "flowc: error: argument COMMAND: invalid choice: 'bogus'"),
        (["run"], "flowc run: error: the following arguments are required: flow"),
        (["trigger"], "flowc trigger: error: the following arguments are required: flow, --target"),
        (["compile", str(HELLO)], "flowc compile: error: the following arguments are required: --target"),
        (["run", str(HELLO), "--no-such-option", "1"], "flowc run: error: unrecognized arguments"),
        (["config"], "flowc config: give an action: show"),
    ],
    ids=[
        "unknown-command",
        "run-no-flow",
        "trigger-no-flow",
        "compile-no-target",
        "unknown-option",
        "config-no-action",
    ],
)
def test_usage_errors_are_one_line_exit_2(argv: list[str], says: str) -> None:
    _assert_usage_error(_run(FLOWC + argv), says)


def test_usage_error_through_the_flow_file() -> None:
    _assert_usage_error(_run([*FLOW_FILE, "bogus"]), "invalid choice: 'bogus'")
