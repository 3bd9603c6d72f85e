"""``python -m flowc.task_runner.finish``: the end-of-run record engines write from their exit hook."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from flowc import Flow
from flowc.datastore import layout
from flowc.datastore.local import LocalStorage

FLOW = textwrap.dedent(
    """
    from flowc import FlowSpec, Parameter, step


    class FinishFlow(FlowSpec):
        fail = Parameter("fail", default=False, type=bool)

        @step
        def start(self):
            self.items = [1, 2, 3]
            self.next(self.work, foreach="items")

        @step
        def work(self):
            if self.fail and self.input == 2:
                raise RuntimeError("item two is broken")
            self.next(self.join)

        @step
        def join(self, inputs):
            self.next(self.end)

        @step
        def end(self):
            pass
    """
)


def _run(tmp_path: Path, *extra: str) -> str:
    flow = tmp_path / "finish_flow.py"
    flow.write_text(FLOW, encoding="utf-8")
    id_file = tmp_path / "run_id"
    command = [sys.executable, "-m", "flowc", "run", str(flow), "--datastore", str(tmp_path / "ds")]
    subprocess.run([*command, "--run-id-file", str(id_file), *extra], capture_output=True, check=False)
    run_id = id_file.read_text().strip()
    # What an engine's run looks like before its exit hook: no status.json.
    LocalStorage(str(tmp_path / "ds")).delete(layout.status_key("FinishFlow", run_id))
    return run_id


def _finish(tmp_path: Path, run_id: str, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "flowc.task_runner.finish", "--flow", "FinishFlow", "--run-id", run_id]
    command += ["--datastore", str(tmp_path / "ds"), *extra]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def _status(tmp_path: Path, run_id: str) -> dict:
    path = tmp_path / "ds" / layout.status_key("FinishFlow", run_id)
    return json.loads(path.read_text(encoding="utf-8"))


def test_a_successful_run_is_recorded_successful(tmp_path: Path, monkeypatch) -> None:
    run_id = _run(tmp_path)
    monkeypatch.setenv("FLOWC_DATASTORE", str(tmp_path / "ds"))
    assert Flow("FinishFlow")[run_id].status == {}  # no end recorded yet
    result = _finish(tmp_path, run_id)
    assert result.returncode == 0, result.stderr
    assert _status(tmp_path, run_id)["status"] == "successful"
    run = Flow("FinishFlow")[run_id]
    assert run.finished and run.successful and run.status["status"] == "successful"


def test_a_failed_run_names_the_failed_task_and_its_reason(tmp_path: Path, monkeypatch) -> None:
    run_id = _run(tmp_path, "--fail", "True")
    result = _finish(tmp_path, run_id, "--reason", "workflow Failed")
    assert result.returncode == 0, result.stderr
    status = _status(tmp_path, run_id)
    assert status["status"] == "failed"
    assert "/".join(["FinishFlow", run_id, "work", "work-1"]) in status["reason"]
    assert "RuntimeError" in status["reason"] and "(workflow Failed)" in status["reason"]
    monkeypatch.setenv("FLOWC_DATASTORE", str(tmp_path / "ds"))
    run = Flow("FinishFlow")[run_id]
    assert run.finished and not run.successful


def test_a_run_that_never_started_is_failed_and_bad_arguments_exit_2(tmp_path: Path) -> None:
    (tmp_path / "ds").mkdir()
    assert _finish(tmp_path, "never").returncode == 0
    assert _status(tmp_path, "never")["status"] == "failed"
    assert "no task of the run started" in _status(tmp_path, "never")["reason"]
    assert _finish(tmp_path, "x", "--status", "maybe").returncode == 2
