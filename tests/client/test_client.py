"""The client API over a datastore laid out by hand (the layout in docs/architecture.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowc.client import (
    DataArtifact,
    Flow,
    MetaflowNamespaceMismatch,
    MetaflowNotFound,
    Run,
    Task,
    default_namespace,
    get_namespace,
    namespace,
)
from flowc.client.namespaces import current_username
from tests.conformance.artifacts import assert_same_artifacts, collect_artifacts


def test_flow_runs_newest_first_in_the_users_namespace(datastore: str) -> None:
    default_namespace()
    flow = Flow("HelloFlow", datastore=datastore)
    assert [run.id for run in flow] == ["2000", "1000"]  # someone-else's run 3000 is hidden
    assert flow.latest_run.id == "2000"
    assert flow.latest_successful_run.id == "1000"
    assert [run.id for run in flow.runs("nightly")] == ["1000"]
    namespace(None)
    try:
        assert [run.id for run in flow] == ["3000", "2000", "1000"]
        assert get_namespace() is None
    finally:
        default_namespace()


def test_run_state_data_and_steps(datastore: str) -> None:
    run = Run("HelloFlow/1000", datastore=datastore)
    assert run.successful and run.finished
    assert run.data.message == "done"
    assert [step.id for step in run] == ["end", "body", "start"]  # most recently started first
    assert run["start"].task.data.items == [1, 2]
    assert sorted(t.data.y for t in run["body"]) == [0, 10]
    assert "nightly" in run.tags and f"user:{current_username()}" in run.tags
    failed = Run("HelloFlow/2000", datastore=datastore)
    assert not failed.successful and failed.finished and failed.data is None
    assert failed.status["reason"] == "boom"


def test_task_pathspec_logs_and_artifacts(datastore: str) -> None:
    task = Task("HelloFlow/1000/body/body-1", datastore=datastore)
    assert task.successful and task.index == 1
    assert task.data.y == 10 and task["y"].data == 10
    assert "y" in task and "nope" not in task
    assert task.stdout == "hi from body\n" and task.stderr == ""
    assert [a.id for a in task] == ["x", "y"]
    artifact = DataArtifact("HelloFlow/1000/body/body-1/y", datastore=datastore)
    assert artifact.data == 10 and len(artifact.sha) == 64
    with pytest.raises(AttributeError, match="no artifact 'nope'"):
        _ = task.data.nope


def test_missing_things_and_other_namespaces_are_clear_errors(datastore: str) -> None:
    default_namespace()
    with pytest.raises(MetaflowNotFound, match="run 'HelloFlow/999'"):
        Run("HelloFlow/999", datastore=datastore)
    with pytest.raises(MetaflowNotFound, match="step 'nope'"):
        Run("HelloFlow/1000", datastore=datastore)["nope"]
    with pytest.raises(MetaflowNamespaceMismatch, match="namespace"):
        Run("HelloFlow/3000", datastore=datastore)
    with pytest.raises(MetaflowNotFound, match="no runs"):
        Flow("NoSuchFlow", datastore=datastore)
    with pytest.raises(ValueError, match="pathspec"):
        Task("HelloFlow/1000/start", datastore=datastore)


def test_datastore_comes_from_the_environment(datastore: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWC_DATASTORE", datastore)
    assert Run("HelloFlow/1000").data.x == 1000


def test_collect_and_compare_artifacts(datastore: str) -> None:
    first = collect_artifacts(datastore, "HelloFlow", "1000")
    assert first[("body", "body-1")] == {"x": 1000, "y": 10}
    assert set(first) == {("start", "start"), ("body", "body-0"), ("body", "body-1"), ("end", "end")}
    assert_same_artifacts(first, collect_artifacts(datastore, "HelloFlow", "1000"))
    with pytest.raises(AssertionError) as failure:
        assert_same_artifacts(first, collect_artifacts(datastore, "HelloFlow", "2000"))
    message = str(failure.value)
    assert "task end/end is missing" in message
    assert "body/body-0: artifact 'x' is 2000, expected 1000" in message


def test_compare_exceptions_and_arrays_by_content() -> None:
    import numpy as np

    expected = {("s", "0"): {"e": ValueError("bad"), "a": np.arange(3)}}
    assert_same_artifacts(expected, {("s", "0"): {"e": ValueError("bad"), "a": np.arange(3)}})
    with pytest.raises(AssertionError, match="'a'"):
        assert_same_artifacts(expected, {("s", "0"): {"e": ValueError("bad"), "a": np.arange(4)}})


def test_corrupt_object_is_a_clear_error_never_wrong_data(datastore: str) -> None:
    from flowc.datastore.objects import CorruptObject

    task = Task("HelloFlow/1000/body/body-1", datastore=datastore)
    sha = task["y"].sha
    path = Path(datastore) / "objects" / sha[:2] / sha
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptObject, match=sha):
        _ = Task("HelloFlow/1000/body/body-1", datastore=datastore).data.y


def test_task_exception_is_what_the_step_raised(tmp_path: Path) -> None:
    """Task.exception: the failed step's exception (type, message, stack trace), None otherwise."""
    import subprocess
    import sys

    from tests.conformance.matrix import FLOWS_DIR

    flow = tmp_path / "raising_flow.py"
    flow.write_text(
        "from flowc import FlowSpec, step\n\n\n"
        "class RaisingFlow(FlowSpec):\n"
        "    @step\n"
        "    def start(self):\n"
        "        self.next(self.end)\n\n"
        "    @step\n"
        "    def end(self):\n"
        "        raise LookupError('no such thing: ' + 'é')\n",
        encoding="utf-8",
    )
    datastore = str(tmp_path / "ds")
    for source in (flow, FLOWS_DIR / "timeout_flow.py"):
        command = [sys.executable, "-m", "flowc", "run", str(source), "--datastore", datastore]
        assert subprocess.run(command, capture_output=True, check=False).returncode == 1
    run = Flow("RaisingFlow", datastore=datastore).latest_run
    assert run["start"].task.exception is None  # succeeded
    raised = run["end"].task.exception
    assert (raised.type, raised.message) == ("LookupError", "no such thing: é")
    assert "raising_flow.py" in raised.stacktrace and "in end" in raised.stacktrace
    # Metaflow's wrapper: .exception is the text, str() the traceback ending with type and text
    assert raised.exception == "no such thing: é"
    assert str(raised) == raised.stacktrace
    assert str(raised).splitlines()[-1] == "LookupError: no such thing: é"
    slow = Flow("TimeoutFlow", datastore=datastore).latest_run["slow"].task
    assert slow.exception is None and "timeout" in slow.attempt_record["exit_reason"]


def test_namespace_holds_for_the_whole_process_as_in_metaflow(datastore: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    namespace(None)
    try:
        with ThreadPoolExecutor(2) as pool:  # a worker thread reads someone else's run
            assert pool.submit(get_namespace).result() is None
            assert pool.submit(lambda: Run("HelloFlow/3000", datastore=datastore).id).result() == "3000"
            pool.submit(default_namespace).result()  # and a switch in a thread holds everywhere
        assert get_namespace() == f"user:{current_username()}"
    finally:
        default_namespace()


def test_steps_tasks_and_artifacts_answer_like_metaflows(datastore: str) -> None:
    from flowc.datastore.local import LocalStorage
    from tests.client.conftest import _task

    storage = LocalStorage(datastore)
    for index in (2, 10):
        _task(storage, "1000", "body", f"body-{index}", {"y": index}, index_path=(index,))
    default_namespace()
    step = Run("HelloFlow/1000", datastore=datastore)["body"]
    assert [task.id for task in step] == ["body-0", "body-1", "body-2", "body-10"]  # index order
    task = step["body-10"]
    assert task.tags == step.tags == task["y"].tags and "nightly" in task.user_tags
    assert f"user:{current_username()}" in task.system_tags
    assert task.path_components == ["HelloFlow", "1000", "body", "body-10"]
    assert task.parent_pathspec == "HelloFlow/1000/body" and step.parent_pathspec == "HelloFlow/1000"
    assert task.created_at is not None and task.created_at.year == 2026
    assert step.created_at == task.created_at
    assert task.origin_pathspec is None and Run("HelloFlow/1000", datastore=datastore).origin_pathspec is None


def test_objects_of_classes_defined_in_the_flow_file_read_back(tmp_path) -> None:
    import os
    import subprocess
    import sys

    from flowc.datastore.local import LocalStorage
    from flowc.package import build_package, store_package
    from tests.task_runner.driver import REPO

    source = tmp_path / "src"
    source.mkdir()
    flow = source / "point_flow.py"
    flow.write_text(
        "from dataclasses import dataclass\nfrom flowc import FlowSpec, step\n\n"
        "@dataclass\nclass Point:\n    x: int\n    y: int\n\n"
        "class PointFlow(FlowSpec):\n"
        "    @step\n    def start(self):\n        self.point = Point(1, 2)\n        self.next(self.end)\n\n"
        "    @step\n    def end(self):\n        pass\n"
    )
    datastore = tmp_path / "ds"
    package = build_package(flow)
    store_package(LocalStorage(datastore), package)
    env = {**os.environ, "FLOWC_PACKAGE_CACHE": str(tmp_path / "cache"), "FLOWC_USER": "me"}
    task = [sys.executable, "-m", "flowc.task_runner", "--flow", "PointFlow", "--step", "start"]
    for run_id, code in (("local", ["--source", str(flow)]), ("engine", ["--package", package.sha])):
        completed = subprocess.run(
            [*task, "--run-id", run_id, *code, "--datastore", str(datastore)],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False,
        )
        assert completed.returncode == 0, completed.stderr
    reader = (
        "import sys\nfrom flowc import Task, namespace\nnamespace(None)\n"
        "for run in ('local', 'engine'):\n"
        "    print(repr(Task(f'PointFlow/{run}/start/start', datastore=sys.argv[1]).data.point))\n"
    )
    # A fresh interpreter elsewhere, where nothing of the flow is imported: the client imports it.
    read = subprocess.run(
        [sys.executable, "-c", reader, str(datastore)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert read.returncode == 0, read.stderr
    assert read.stdout.splitlines() == ["Point(x=1, y=2)", "Point(x=1, y=2)"]
    flow.unlink()  # the local run's file is gone: a clear error, naming the artifact
    (tmp_path / "cache").rename(tmp_path / "old-cache")
    read = subprocess.run(
        [sys.executable, "-c", reader, str(datastore)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert read.returncode == 1
    assert "artifact 'point'" in read.stderr and "point_flow.py does not exist" in read.stderr


def test_a_run_no_launcher_ended_finishes_when_its_end_task_did(datastore: str) -> None:
    import json

    from flowc.datastore import layout
    from flowc.datastore.local import LocalStorage

    key = layout.attempt_key("HelloFlow", "1000", "end", "end", 1)
    attempt = {"status": "successful", "start": "2026-01-01T00:00:03", "end": "2026-01-01T00:00:04"}
    LocalStorage(datastore).write(key, json.dumps(attempt).encode())
    run = Run("HelloFlow/1000", datastore=datastore, _namespace_check=False)
    assert run.status == {} and run.finished  # an engine's run: no status.json
    assert run.finished_at is not None and run.finished_at.second == 4
