"""`current` members Metaflow flows use and their values, met through `python FLOW.py run`
(issue 18, item 11): is_user_branch, tempdir, graph, get() and `in`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from flowc import current
from flowc.client import Run
from tests.conformance.matrix import REPO_ROOT

FLOW = Path(__file__).parent / "flows" / "current_flow.py"


def _run(tmp_path: Path, *args: str) -> Run:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWC_")}
    env.update(PYTHONPATH=str(REPO_ROOT), FLOWC_TEMPDIR=str(tmp_path))
    store, id_file = str(tmp_path / "ds"), tmp_path / "id"
    result = subprocess.run(
        [sys.executable, str(FLOW), "run", "--datastore", store, "--run-id-file", str(id_file), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return Run(f"CurrentFlow/{id_file.read_text()}", datastore=store, _namespace_check=False)


def test_current_members_inside_a_task(tmp_path: Path) -> None:
    run = _run(tmp_path)
    data = run["start"].task.data
    assert data.is_user_branch is True
    assert data.tempdir == str(tmp_path) and data.tempdir_usable
    assert data.has_run_id is True and data.has_nothing is False
    assert data.got == ("start", "fallback")
    graph = data.graph
    assert graph["file"] == "current_flow.py" and graph["doc"] == "Reads current in every step."
    assert graph["constants"] == [{"name": "LIMIT", "type": "int"}]
    assert graph["decorators"] == [
        {"name": "project", "attributes": {"name": "shop"}, "statically_defined": True}
    ]
    start = graph["steps"]["start"]
    assert start["type"] == "split-foreach" and start["foreach_artifact"] == "items"
    assert start["next"] == ["body"] and start["matching_join"] == "join" and start["doc"] == "Starts."
    assert graph["steps"]["join"]["type"] == "join" and graph["steps"]["end"]["type"] == "end"
    assert graph["graph_structure"] == ["start", [["body"]], "join", "end"]


def test_current_task_and_run_are_client_objects_stored_as_artifacts(tmp_path: Path) -> None:
    run = _run(tmp_path, "--tag", "t1")
    start = run["start"].task
    task_obj, run_obj = start.data.task_obj, start.data.run_obj
    assert task_obj.pathspec == start.pathspec and run_obj.pathspec == run.pathspec
    assert task_obj.parent.parent.id == run.id and run_obj["start"].id == "start"
    assert task_obj.data.tags_seen == {"t1"}  # a set, as Metaflow's current.tags


def test_is_user_branch_is_false_on_a_named_branch(tmp_path: Path) -> None:
    assert _run(tmp_path, "--branch", "feature")["start"].task.data.is_user_branch is False


def test_current_outside_a_task() -> None:
    assert "run_id" not in current
    assert current.task is None and current.run is None and current.tags == set()
    assert current.get("run_id", "none") is None  # the member exists, unset outside a run
    assert current.tempdir == "."
    with pytest.raises(RuntimeError, match="Graph is not available"):
        _ = current.graph
