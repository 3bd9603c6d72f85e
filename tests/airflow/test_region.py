"""The loop driver (python -m flowc.task_runner.region) with the real task runner."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from flowc.task_runner.spec import parse_region_argv
from tests.conformance.artifacts import collect_artifacts

LOOP_WITH_FLAKY_STEP = """
from flowc import FlowSpec, current, retry, step


class FlakyLoopFlow(FlowSpec):
    @step
    def start(self):
        self.counter = 0
        self.next(self.work)

    @retry(times=1, minutes_between_retries=0)
    @step
    def work(self):
        if current.retry_count == 0 and self.counter == 1:
            raise RuntimeError("second round fails once")
        self.counter += 1
        self.next(self.decide)

    @step
    def decide(self):
        self.state = "again" if self.counter < 3 else "done"
        if self.counter > 5:
            raise RuntimeError("no end")
        self.next({"again": self.work, "done": self.end}, condition="state")

    @step
    def end(self):
        pass
"""


def run(module: str, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, *argv], capture_output=True, text=True, timeout=120, check=False
    )


def test_region_runs_each_step_and_iteration_as_a_task(tmp_path: Path) -> None:
    flow = tmp_path / "flaky_loop_flow.py"
    flow.write_text(LOOP_WITH_FLAKY_STEP, encoding="utf-8")
    datastore = str(tmp_path / "ds")
    common = ["--flow", "FlakyLoopFlow", "--run-id", "r1", "--source", str(flow), "--datastore", datastore]
    started = run("flowc.task_runner", *common, "--step", "start")
    assert started.returncode == 0, started.stderr

    control_file = tmp_path / "control.json"
    region = run(
        "flowc.task_runner.region", *common, "--entry", "work", "--iteration", "0",
        "--steps", "work,decide", "--retry", "work=1:0", "--control-file", str(control_file),
    )  # fmt: skip
    assert region.returncode == 0, region.stderr
    control = json.loads(control_file.read_text())
    assert control["next"] == ["end"] and control["next_iteration"] == 2
    assert region.stdout.splitlines()[-1] == "FLOWC_CONTROL " + json.dumps(control, sort_keys=True)

    artifacts = collect_artifacts(datastore, "FlakyLoopFlow", "r1")
    tasks = sorted(k for k in artifacts if k[0] != "start")
    assert tasks == [(step, task) for step in ("decide", "work") for task in (step, f"{step}.1", f"{step}.2")]
    assert artifacts[("decide", "decide.2")]["counter"] == 3


def test_region_without_retry_returns_the_failing_step_exit_code(tmp_path: Path) -> None:
    flow = tmp_path / "flaky_loop_flow.py"
    flow.write_text(LOOP_WITH_FLAKY_STEP, encoding="utf-8")
    datastore = str(tmp_path / "ds")
    common = ["--flow", "FlakyLoopFlow", "--run-id", "r2", "--source", str(flow), "--datastore", datastore]
    assert run("flowc.task_runner", *common, "--step", "start").returncode == 0
    region = run("flowc.task_runner.region", *common, "--entry", "work", "--steps", "work,decide")
    assert region.returncode == 1  # the step raised (no --retry given to the driver)
    assert "FLOWC_CONTROL" not in region.stdout.splitlines()[-1:]


def test_region_argv_is_checked() -> None:
    spec = parse_region_argv(
        ["--flow", "F", "--run-id", "r", "--entry", "b", "--steps", "a,b", "--retry", "a=2:1.5"]
    )
    assert spec.steps == ("a", "b") and spec.retries == (("a", 2, 1.5),) and spec.task.address.iteration == 0
    with pytest.raises(SystemExit):
        parse_region_argv(["--flow", "F", "--run-id", "r", "--entry", "c", "--steps", "a,b"])
    with pytest.raises(SystemExit):
        parse_region_argv(["--flow", "F", "--run-id", "r", "--entry", "a", "--steps", "a", "--retry", "a=x"])
