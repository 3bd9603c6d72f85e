"""Issue 19's run-level defects, reproduced for real: a task is successful only when its record
says so, a running run is not resumed, missing tasks are errors, damaged objects are repaired,
no task process outlives its task, Ctrl-C and a closed console still leave a run status, and long
lines are read in linear time. Every test bounds its own time (subprocess timeouts)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from flowc.client import Run
from flowc.datastore.local import LocalStorage
from flowc.metadata import TaskAddress, list_attempts, read_attempt
from tests.conformance.matrix import REPO_ROOT

FLOWS = Path(__file__).parent / "flows"
EXITING = FLOWS / "exiting_flow.py"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWC_")}
    env["PYTHONPATH"] = str(REPO_ROOT)
    env.update(extra)
    return env


def _flowc(
    *words: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flowc", *words],
        capture_output=True,
        text=True,
        env=env or _env(),
        timeout=timeout,
        check=False,
    )


def _run(run_id_file: Path, datastore: Path, flow: str) -> Run:
    return Run(f"{flow}/{run_id_file.read_text()}", datastore=str(datastore), _namespace_check=False)


# ---- 1. a task is successful only when its record says so ---------------------------------------
@pytest.mark.parametrize("executor", ["fork", "subprocess"])
@pytest.mark.parametrize("step", ["middle", "end"])
def test_a_step_exiting_0_before_its_record_fails_the_run_naming_it(
    tmp_path: Path, executor: str, step: str
) -> None:
    ds, id_file = tmp_path / "ds", tmp_path / "id"
    result = _flowc(
        "run",
        str(EXITING),
        "--datastore",
        str(ds),
        "--run-id-file",
        str(id_file),
        "--executor",
        executor,
        env=_env(EXIT_IN=step),
    )
    assert result.returncode == 1, result.stderr
    run = _run(id_file, ds, "ExitingFlow")
    assert run.status["status"] == "failed" and not run.successful
    task = "end/0" if step == "end" else "middle/"
    assert f"task ExitingFlow/{run.id}/{task}" in result.stderr, result.stderr
    assert "os._exit" in run.status["reason"]
    assert "join" not in run.status["reason"]  # the next task is not blamed
    failed = next(t for t in run[step] if t.attempt_record and t.attempt_record["status"] == "failed")
    assert "os._exit" in failed.attempt_record["exit_reason"]


def test_the_task_runner_as_engines_run_it_fails_a_task_exiting_0_unrecorded(tmp_path: Path) -> None:
    ds = tmp_path / "ds"

    def argv(run_id: str) -> list[str]:
        return [
            sys.executable,
            "-m",
            "flowc.task_runner",
            "--flow",
            "ExitingFlow",
            "--step",
            "start",
            "--run-id",
            run_id,
            "--source",
            str(EXITING),
            "--datastore",
            str(ds),
        ]

    result = subprocess.run(
        argv("r1"), capture_output=True, text=True, env=_env(EXIT_IN="start"), timeout=60, check=False
    )
    assert result.returncode == 1, result.stderr
    assert "ExitingFlow/r1/start/0 failed" in result.stderr and "os._exit" in result.stderr
    address = TaskAddress("ExitingFlow", "r1", "start", "0")
    storage = LocalStorage(str(ds))
    record = read_attempt(storage, address, list_attempts(storage, address)[-1])
    assert record is not None and record["status"] == "failed" and "os._exit" in record["exit_reason"]
    # The same task without the fault: exit 0, recorded.
    ok = subprocess.run(argv("r2"), capture_output=True, text=True, env=_env(), timeout=60, check=False)
    assert ok.returncode == 0, ok.stderr
    assert storage.exists(TaskAddress("ExitingFlow", "r2", "start", "0").task_key)
