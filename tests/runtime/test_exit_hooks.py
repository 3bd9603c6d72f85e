"""``@exit_hook`` on the local runtime, as a user runs it (``flowc run``): after the run's status is
recorded, the hooks of its outcome run once, in their own process, with ``run=``; a hook that
raises is logged and changes neither the run's status nor ``flowc run``'s exit code."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowc.client import Run
from tests.conformance.matrix import FLOWS_DIR, Case, run_local

FLOW = FLOWS_DIR / "exit_hook_flow.py"


@pytest.mark.parametrize("fail", [False, True])
def test_hooks_of_the_outcome_run_once_after_the_run(fail: bool, tmp_path: Path) -> None:
    log = tmp_path / "hooks.log"
    case = Case("exit_hook", str(FLOW), "ExitHookFlow", parameters={"fail": str(fail).lower()})
    result, run_id = run_local(case, tmp_path / "ds", env={"HOOK_LOG": str(log)})

    assert result.returncode == (1 if fail else 0), result.stderr
    pathspec = f"ExitHookFlow/{run_id}"
    expected = f"error {pathspec} successful=False" if fail else f"success {pathspec} successful=True"
    assert log.read_text(encoding="utf-8").splitlines() == [expected]
    assert (
        f"exit hook broken_hook of run {pathspec} failed: RuntimeError: this hook always fails"
        in result.stderr
    )
    run = Run(pathspec, datastore=str(tmp_path / "ds"), _namespace_check=False)
    assert run.finished and run.successful is not fail


def test_a_flow_without_hooks_runs_none(tmp_path: Path) -> None:
    case = Case("linear", str(FLOWS_DIR / "linear_flow.py"), "LinearFlow")
    result, _ = run_local(case, tmp_path / "ds")
    assert result.returncode == 0 and "exit hook" not in result.stdout + result.stderr
