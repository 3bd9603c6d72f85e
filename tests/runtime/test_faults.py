"""Faults, for real: a task killed with SIGKILL, Ctrl-C (SIGINT) and SIGTERM on the runtime, bad
parameters and invalid flows refused before any task runs, concurrent runs in one directory."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flowc.client import Run
from flowc.datastore.layout import parse_task_id
from tests.conformance.matrix import FLOWS_DIR, REPO_ROOT

SLEEPY = Path(__file__).parent / "flows" / "sleepy_flow.py"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWC_")}
    env["PYTHONPATH"] = str(REPO_ROOT)
    env.update(extra)
    return env


def _flowc(
    *words: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flowc", *words],
        capture_output=True,
        text=True,
        env=env or _env(),
        timeout=timeout,
        check=False,
    )


def _start_sleepy(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen[str], Path, Path]:
    faults = tmp_path / "faults"
    faults.mkdir()
    datastore = tmp_path / "ds"
    run_id_file = tmp_path / "run_id"
    command = [sys.executable, "-m", "flowc", "run", str(SLEEPY), "--datastore", str(datastore)]
    command += ["--run-id-file", str(run_id_file), "--max-workers", "4", *extra]
    process = subprocess.Popen(
        command,
        env=_env(FAULT_DIR=str(faults)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    return process, faults, run_id_file


def _wait_for_pids(faults: Path, count: int, process: subprocess.Popen[str]) -> list[int]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        files = sorted(faults.glob("*.pids"))
        if len(files) == count:
            return [int(pid) for file in files for pid in file.read_text().split()]
        if process.poll() is not None:
            raise AssertionError(f"the run ended early: {process.communicate()}")
        time.sleep(0.05)
    raise AssertionError("the tasks never started")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes (its parent has not reaped it yet).
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _wait_gone(pids: list[int], seconds: float = 10) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        alive = [pid for pid in pids if _alive(pid)]
        if not alive:
            return []
        time.sleep(0.05)
    return [pid for pid in pids if _alive(pid)]


@pytest.mark.slow
def test_task_killed_by_sigkill_fails_the_run_and_resume_continues(tmp_path: Path) -> None:
    process, faults, run_id_file = _start_sleepy(tmp_path)
    try:
        pids = _wait_for_pids(faults, 3, process)
        victim = pids[0]  # the first task process (its grandchild `sleep` is pids[1])
        os.kill(victim, signal.SIGKILL)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 1
    assert "SIGKILL" in stderr and "flowc resume" in stderr
    assert _wait_gone(pids) == [], "a task or its child outlived the run"
    run_id = run_id_file.read_text()
    run = Run(f"SleepyFlow/{run_id}", datastore=str(tmp_path / "ds"), _namespace_check=False)
    assert run.status["status"] == "failed" and "SIGKILL" in run.status["reason"]
    killed = next(
        task for task in run["nap"] if task.attempt_record and "SIGKILL" in str(task.attempt_record)
    )
    assert killed.attempt_record["status"] == "failed"
    # It was killed before storing its logs: the runtime stored what it printed.
    index = parse_task_id(killed.id)[1][-1]  # no task record: the id says which item
    assert f"napping on item {index}" in killed.stdout
    resumed = _flowc("resume", str(SLEEPY), "--datastore", str(tmp_path / "ds"), "--origin-run-id", run_id)
    assert resumed.returncode == 0, resumed.stderr
    assert "1 cloned" in resumed.stdout  # start only: the nap tasks were all stopped


@pytest.mark.slow
@pytest.mark.parametrize(
    ("signum", "executor"),
    [(signal.SIGINT, "fork"), (signal.SIGTERM, "fork"), (signal.SIGINT, "subprocess")],
    ids=["SIGINT", "SIGTERM", "SIGINT-subprocess"],
)
def test_ctrl_c_stops_every_task_leaves_no_orphan_and_marks_the_run_killed(
    tmp_path: Path, signum: int, executor: str
) -> None:
    process, faults, run_id_file = _start_sleepy(tmp_path, "--executor", executor)
    try:
        pids = _wait_for_pids(faults, 3, process)
        os.kill(process.pid, signum)
        _, stderr = process.communicate(timeout=30)  # a hang guard; how fast: bench/runtime/faults.py
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 130, stderr
    assert _wait_gone(pids) == [], "a task or its child outlived the run"
    run = Run(f"SleepyFlow/{run_id_file.read_text()}", datastore=str(tmp_path / "ds"), _namespace_check=False)
    assert run.status["status"] == "killed"
    assert signal.Signals(signum).name in run.status["reason"]
    assert "killed" in stderr
    # Stopped mid-step, so the tasks never stored their logs: the runtime did.
    assert [task.stdout for task in sorted(run["nap"], key=lambda task: task.id)] == [
        f"napping on item {index}\n" for index in range(3)
    ]


def test_bad_parameter_exits_2_naming_it_before_any_task_runs(tmp_path: Path) -> None:
    flow = FLOWS_DIR / "parameters_flow.py"
    result = _flowc("run", str(flow), "--datastore", str(tmp_path / "ds"), "--text", "x", "--count", "many")
    assert result.returncode == 2
    assert "count" in result.stderr
    assert not (tmp_path / "ds" / "runs").exists()
    missing = _flowc("run", str(flow), "--datastore", str(tmp_path / "ds"))
    assert missing.returncode == 2 and "text" in missing.stderr


def test_params_file_gives_values_and_the_command_line_wins(tmp_path: Path) -> None:
    flow = FLOWS_DIR / "parameters_flow.py"
    params = tmp_path / "params.json"
    params.write_text(json.dumps({"text": "from the file", "count": 4, "config": {"k": [True]}}))
    ran = _flowc("run", str(flow), "--datastore", str(tmp_path / "ds"), "--params-file", str(params),
                 "--count", "9", "--run-id-file", str(tmp_path / "id"))
    assert ran.returncode == 0, ran.stderr
    run = Run(f"ParametersFlow/{(tmp_path / 'id').read_text().strip()}", datastore=str(tmp_path / "ds"),
              _namespace_check=False)
    echo = run["end"].task.data.echo
    assert (echo["text"], echo["count"], echo["config"]) == ("from the file", 9, {"k": [True]})
    for content, expected in [("[1, 2]", "JSON object"), ("{oops", "not JSON"), ('{"nope": 1}', "'nope'")]:
        params.write_text(content)
        refused = _flowc("run", str(flow), "--datastore", str(tmp_path / "bad"), "--params-file", str(params))
        assert refused.returncode == 2 and expected in refused.stderr, refused.stderr
        assert not (tmp_path / "bad" / "runs").exists()


def test_help_lists_the_flows_parameters() -> None:
    result = _flowc("run", str(FLOWS_DIR / "parameters_flow.py"), "--help")
    assert result.returncode == 0
    for name in ("--text", "--count", "--ratio", "--enabled", "--config", "--max-workers"):
        assert name in result.stdout
    assert "required" in result.stdout and "default: 2" in result.stdout


def test_python_flow_file_run_works_like_flowc_run(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(FLOWS_DIR / "linear_flow.py"), "run", "--datastore", str(tmp_path / "ds")],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "/middle/middle] task finished" in result.stdout and "succeeded" in result.stdout


def test_invalid_flow_is_refused_with_diagnostics(tmp_path: Path) -> None:
    flow = tmp_path / "broken_flow.py"
    flow.write_text(
        "from flowc import FlowSpec, step\n\n"
        "class BrokenFlow(FlowSpec):\n"
        "    @step\n"
        "    def start(self):\n"
        "        self.next(self.nowhere)\n\n"
        "    @step\n"
        "    def end(self):\n"
        "        pass\n"
    )
    result = _flowc("run", str(flow), "--datastore", str(tmp_path / "ds"))
    assert result.returncode == 2
    assert "broken_flow.py" in result.stderr and "nowhere" in result.stderr
    assert not (tmp_path / "ds" / "runs").exists()
    # With parameter options, which an invalid flow does not have: the diagnostics still show.
    for command in ("run", "resume"):
        result = _flowc(command, str(flow), "--datastore", str(tmp_path / "ds"), "--alpha", "3")
        assert result.returncode == 2
        assert "nowhere" in result.stderr and "unrecognized" not in result.stderr, result.stderr
    assert not (tmp_path / "ds" / "runs").exists()


def test_two_concurrent_runs_in_one_directory_never_collide(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "flowc", "run", str(FLOWS_DIR / "foreach_flow.py"), "--datastore", "ds"]
    runs = [
        subprocess.Popen(
            [*command, "--run-id-file", f"id{i}"], cwd=tmp_path, env=_env(), stdout=subprocess.DEVNULL
        )
        for i in range(3)
    ]
    assert [process.wait(timeout=120) for process in runs] == [0, 0, 0]
    ids = {(tmp_path / f"id{i}").read_text() for i in range(3)}
    assert len(ids) == 3
    for run_id in ids:
        record = json.loads((tmp_path / "ds" / "runs" / "ForeachFlow" / run_id / "run.json").read_text())
        assert record["id"] == run_id
        assert Run(f"ForeachFlow/{run_id}", datastore=str(tmp_path / "ds"), _namespace_check=False).successful


@pytest.mark.slow
def test_runtime_kills_a_task_stuck_past_its_timeout(tmp_path: Path) -> None:
    flow = Path(__file__).parent / "flows" / "stuck_flow.py"
    result = _flowc(  # timeout: a hang guard; how fast: bench/runtime/faults.py
        "run", str(flow), "--datastore", str(tmp_path / "ds"), env=_env(FLOWC_TIMEOUT_GRACE="1"), timeout=60
    )
    assert result.returncode == 1
    assert "exceeded its @timeout of 1 s (killed by the runtime 1 s later)" in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("executor", ["fork", "subprocess"])
def test_runtime_killed_by_sigkill_takes_its_tasks_with_it(tmp_path: Path, executor: str) -> None:
    process, faults, run_id_file = _start_sleepy(tmp_path, "--executor", executor)
    try:
        pids = _wait_for_pids(faults, 3, process)
        os.kill(process.pid, signal.SIGKILL)
        process.communicate(timeout=30)
        assert _wait_gone(pids) == []  # the tasks and their `sleep`s (each task's supervisor kills them)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        for pid in pids:  # their `sleep`s, and the tasks themselves should this test fail
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    listing = _flowc("runs", "SleepyFlow", "--datastore", str(tmp_path / "ds"))
    assert f"{run_id_file.read_text()}  crashed" in listing.stdout


def test_an_unwritable_run_id_file_is_refused_before_any_run_exists(tmp_path: Path) -> None:
    result = _flowc(
        "run", str(FLOWS_DIR / "linear_flow.py"), "--datastore", str(tmp_path / "ds"),
        "--run-id-file", str(tmp_path / "missing" / "id"),
    )
    assert result.returncode == 1
    assert "--run-id-file" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "ds" / "runs").exists()


def test_local_retry_starts_the_next_attempt_at_once_as_metaflow_does(tmp_path: Path) -> None:
    """`@retry` with Metaflow's default two minutes between retries: `flowc run` retries at once
    (Metaflow's local runtime does; the delay spaces attempts on the engines only)."""
    flow = tmp_path / "retry_default_flow.py"
    flow.write_text(
        "from flowc import FlowSpec, current, retry, step\n\n\n"
        "class RetryDefaultFlow(FlowSpec):\n"
        "    @retry(times=1)\n"
        "    @step\n"
        "    def start(self):\n"
        "        if current.retry_count == 0:\n"
        "            raise RuntimeError('first attempt fails on purpose')\n"
        "        self.attempt = current.retry_count\n"
        "        self.next(self.end)\n\n"
        "    @step\n"
        "    def end(self):\n"
        "        pass\n",
        encoding="utf-8",
    )
    datastore, run_id_file = tmp_path / "ds", tmp_path / "run_id"
    # 60 s is half the two-minute delay: a run that waited it never finishes in time.
    words = ("run", str(flow), "--datastore", str(datastore), "--run-id-file", str(run_id_file))
    result = _flowc(*words, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "retrying (1 attempt(s) left)" in result.stderr
    run_id = run_id_file.read_text().strip()
    run = Run(f"RetryDefaultFlow/{run_id}", datastore=str(datastore), _namespace_check=False)
    assert run["start"].task.data.attempt == 1


def test_catch_fallback_lets_a_run_go_on_past_a_step_that_dies_on_every_attempt(tmp_path: Path) -> None:
    """Metaflow's @catch: a step killed on its last retry (SIGKILL, no exception) gets one more,
    fallback attempt that does not run the body, stores FailureHandledByCatch and goes on."""
    flow = Path(__file__).parent / "flows" / "dying_catch_flow.py"
    datastore, run_id_file = tmp_path / "ds", tmp_path / "run_id"
    result = _flowc("run", str(flow), "--datastore", str(datastore), "--run-id-file", str(run_id_file))
    assert result.returncode == 0, result.stderr
    run_id = run_id_file.read_text().strip()
    run = Run(f"DyingCatchFlow/{run_id}", datastore=str(datastore), _namespace_check=False)
    task = run["dies"].task
    # 1 attempt + 2 retries, all killed, + the fallback
    assert sorted(m.value for m in task.metadata if m.type == "attempt") == ["0", "1", "2", "3"]
    assert task.data.ex.type == "flowc.task_runner.errors.FailureHandledByCatch"
    assert "kept failing over 3 attempts" in task.data.ex.exception
    assert task.data.before == "inherited"
    end = run["end"].task.data
    assert end.ex_type == "flowc.task_runner.errors.FailureHandledByCatch"
    assert end.seen_before == "inherited"
    assert run.successful
