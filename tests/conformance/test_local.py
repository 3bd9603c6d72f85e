"""The local column of the conformance matrix: every case run for real with `flowc run`."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowc.client import Run
from tests.conformance.artifacts import assert_same_artifacts, collect_artifacts, comparable
from tests.conformance.matrix import FLOWS_DIR, Case, case, cases_for, run_local


def _check(case_: Case, artifacts: dict) -> None:
    for (step, name), expected in case_.checks.items():
        tasks = {task: values for (s, task), values in artifacts.items() if s == step}
        assert len(tasks) == 1, f"{case_.name}: expected one task of {step}, found {sorted(tasks)}"
        (values,) = tasks.values()
        assert name in values, f"{case_.name}: {step} has no artifact {name!r}: {sorted(values)}"
        assert comparable(values[name]) == comparable(expected), (
            f"{case_.name}: {step}.{name} = {values[name]!r}"
        )


@pytest.mark.parametrize("case_", cases_for("local"), ids=lambda c: c.name)
def test_local_column(case_: Case, tmp_path: Path) -> None:
    datastore = tmp_path / "ds"
    result, run_id = run_local(case_, datastore)
    output = result.stdout + result.stderr
    assert run_id is not None, output
    run = Run(f"{case_.flow_name}/{run_id}", datastore=str(datastore), _namespace_check=False)
    if case_.succeeds:
        assert result.returncode == 0, output
        assert run.successful and run.status["status"] == "successful"
    else:
        assert result.returncode == 1, output
        assert not run.successful and run.status["status"] == "failed"
        assert f"{case_.flow_name}/{run_id}/{case_.failed_step}/" in result.stderr
        assert f"flowc resume {case_.path} --origin-run-id {run_id}" in result.stderr
    _check(case_, collect_artifacts(str(datastore), case_.flow_name, run_id))


def test_timeout_message_is_clear(tmp_path: Path) -> None:
    result, run_id = run_local(case("timeout"), tmp_path / "ds")
    assert result.returncode == 1
    assert "timeout" in result.stderr.lower() and "2 s" in result.stderr
    assert f"TimeoutFlow/{run_id}/slow/slow" in result.stderr


@pytest.mark.parametrize("name", ["nested_foreach", "loop", "parameters", "branch_in_foreach"])
def test_subprocess_executor_matches_fork_executor(name: str, tmp_path: Path) -> None:
    """The argv contract (`python -m flowc.task_runner ...`) gives the same artifacts as forking."""
    case_ = case(name)
    forked, fork_id = run_local(case_, tmp_path / "fork")
    spawned, spawn_id = run_local(case_, tmp_path / "spawn", extra=["--executor", "subprocess"])
    assert forked.returncode == 0 and spawned.returncode == 0, spawned.stderr
    assert "subprocess executor" in spawned.stdout
    assert_same_artifacts(
        collect_artifacts(str(tmp_path / "fork"), case_.flow_name, fork_id),
        collect_artifacts(str(tmp_path / "spawn"), case_.flow_name, spawn_id),
    )


def _resume(
    datastore: Path, *words: str, flow: Path = FLOWS_DIR / "resume_flow.py"
) -> tuple[int, str, str | None]:
    import os
    import subprocess
    import sys

    from tests.conformance.matrix import REPO_ROOT

    run_id_file = datastore.parent / "resumed.run_id"
    run_id_file.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWC_")}
    env["PYTHONPATH"] = str(REPO_ROOT)
    command = [sys.executable, "-m", "flowc", "resume", str(flow), "--datastore", str(datastore)]
    command += ["--run-id-file", str(run_id_file), *words]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)
    run_id = run_id_file.read_text() if run_id_file.exists() else None
    return result.returncode, result.stdout + result.stderr, run_id


RESUME_CASE = Case(
    "resume", "resume_flow.py", "ResumeFlow", behaviour="resume", succeeds=False, failed_step="fails_once"
)


def test_resume_clones_successful_tasks_and_runs_the_rest(tmp_path: Path) -> None:
    datastore = tmp_path / "ds"
    first, origin_id = run_local(RESUME_CASE, datastore)
    assert first.returncode == 1 and "fails until the run is resumed" in first.stderr
    code, output, resumed_id = _resume(datastore, "--origin-run-id", origin_id)
    assert code == 0, output
    assert "5 cloned" in output  # start, 3 body tasks, join
    resumed = Run(f"ResumeFlow/{resumed_id}", datastore=str(datastore), _namespace_check=False)
    assert resumed.origin_run_id == origin_id
    assert resumed.successful and resumed["fails_once"].task.data.resumed_from == origin_id
    assert resumed["fails_once"].task.data.total == 60
    before = collect_artifacts(str(datastore), "ResumeFlow", origin_id)
    after = collect_artifacts(str(datastore), "ResumeFlow", resumed_id)
    cloned = {key: value for key, value in after.items() if key[0] in ("start", "body", "join")}
    assert_same_artifacts(before, cloned)  # same random stamps: cloned, never recomputed
    origin = Run(f"ResumeFlow/{origin_id}", datastore=str(datastore), _namespace_check=False)
    assert resumed["start"].task.stdout == origin["start"].task.stdout


def test_resume_from_a_named_step_reruns_it_and_what_follows(tmp_path: Path) -> None:
    datastore = tmp_path / "ds"
    _, origin_id = run_local(RESUME_CASE, datastore)
    code, output, first_resume = _resume(datastore, "--origin-run-id", origin_id)
    assert code == 0, output
    code, output, second = _resume(datastore, "--origin-run-id", first_resume, "body")
    assert code == 0, output
    assert "1 cloned" in output  # only start
    old = collect_artifacts(str(datastore), "ResumeFlow", first_resume)
    new = collect_artifacts(str(datastore), "ResumeFlow", second)
    assert new[("start", "start")]["stamp"] == old[("start", "start")]["stamp"]
    assert new[("body", "body-0")]["body_stamp"] != old[("body", "body-0")]["body_stamp"]  # re-run
    assert new[("fails_once", "fails_once")]["resumed_from"] == first_resume


def test_resume_latest_run_by_default(tmp_path: Path) -> None:
    datastore = tmp_path / "ds"
    _, origin_id = run_local(RESUME_CASE, datastore)
    code, output, resumed_id = _resume(datastore)
    assert code == 0, output
    assert (
        Run(f"ResumeFlow/{resumed_id}", datastore=str(datastore), _namespace_check=False).origin_run_id
        == origin_id
    )


def test_retry_keeps_every_attempts_record_and_logs(tmp_path: Path) -> None:
    result, run_id = run_local(case("retry"), tmp_path / "ds")
    assert result.returncode == 0, result.stderr
    assert "attempt 0 failed" in result.stderr and "retrying (" in result.stderr
    task = Run(f"RetryFlow/{run_id}", datastore=str(tmp_path / "ds"), _namespace_check=False)["flaky"].task
    assert task.attempts == [0, 1] and task.current_attempt == 1
    assert "first attempt fails on purpose" in task.log("stderr", attempt=0)
    assert task.attempt_record["status"] == "successful"


@pytest.mark.parametrize(
    ("name", "cloned"),
    [
        # start, pick, d_way, plain
        ("switch_into_join", 4),
        # start, route x 4, handle_a x 2, handle_b
        ("switch_into_foreach_join", 8),
    ],
)
def test_resume_of_a_join_reached_straight_from_switch_cases(name: str, cloned: int, tmp_path: Path) -> None:
    """The resumed join finds, among the cloned tasks, the case each branch (or index) took."""
    case_ = case(name)
    datastore = tmp_path / "ds"
    first, origin_id = run_local(case_, datastore)
    assert first.returncode == 0, first.stderr
    code, output, resumed_id = _resume(datastore, "--origin-run-id", origin_id, "join", flow=case_.path)
    assert code == 0, output
    assert f"{cloned} cloned" in output
    before = collect_artifacts(str(datastore), case_.flow_name, origin_id)
    after = collect_artifacts(str(datastore), case_.flow_name, resumed_id)
    assert_same_artifacts(before, after)
    _check(case_, after)


def test_a_failed_join_reached_straight_from_switch_cases_resumes(tmp_path: Path) -> None:
    case_ = case("switch_into_foreach_join")
    flow = tmp_path / case_.flow_file
    source = case_.path.read_text(encoding="utf-8")
    failing = source.replace(
        "        self.results = [i.result for i in inputs]\n",
        "        if current.origin_run_id is None:\n"
        "            raise RuntimeError('fails until the run is resumed')\n"
        "        self.results = [i.result for i in inputs]\n",
    ).replace("from flowc import FlowSpec, step", "from flowc import FlowSpec, current, step")
    assert failing != source
    flow.write_text(failing, encoding="utf-8")
    datastore = tmp_path / "ds"
    first, origin_id = run_local(Case(case_.name, str(flow), case_.flow_name), datastore)
    assert first.returncode == 1 and "fails until the run is resumed" in first.stderr
    code, output, resumed_id = _resume(datastore, "--origin-run-id", origin_id, flow=flow)
    assert code == 0, output
    assert "8 cloned" in output
    _check(case_, collect_artifacts(str(datastore), case_.flow_name, resumed_id))
