"""Resuming a run in place, as an engine does: every task of the new run gets ``--resume
ORIGIN[/STEP]`` and clones itself from the origin run when it succeeded there (the one cloning of
flowc.runtime.resume), through ``python -m flowc.task_runner`` (tests/task_runner/driver.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowc import metadata
from tests.task_runner.driver import drive

pytestmark = pytest.mark.slow


def test_a_failed_run_resumed_in_place_clones_what_succeeded(tmp_path: Path) -> None:
    datastore = tmp_path / "ds"
    failed = drive("resume_flow.py", datastore, run_id="argo-first", subprocess_mode=True)
    assert not failed.succeeded and failed.codes[("fails_once", "fails_once")][-1] == 1

    resumed = drive(
        "resume_flow.py", datastore, run_id="argo-second", subprocess_mode=True, resume="argo-first"
    )
    assert resumed.succeeded
    for step, task in [("start", "start"), ("body", "body-0"), ("body", "body-2"), ("join", "join")]:
        assert resumed.task(step, task)["cloned_from"] == f"ResumeFlow/argo-first/{step}/{task}"
        assert resumed.artifacts(step, task) == failed.artifacts(step, task)  # not recomputed
    assert "cloned_from" not in resumed.task("fails_once")
    end = resumed.artifacts("fails_once")
    assert end["total"] == 60 and end["resumed_from"] == "argo-first"
    record = metadata.read_run(resumed.storage, "ResumeFlow", "argo-second")
    assert record["origin_run_id"] == "argo-first" and "runtime:argo-workflows" in record["system_tags"]
    # The cloned tasks' logs came along, checked against their checksums.
    address = metadata.TaskAddress(flow="ResumeFlow", run_id="argo-second", step="start")
    assert metadata.read_log(resumed.storage, address, 0, "stdout") == metadata.read_log(
        failed.storage,
        metadata.TaskAddress(flow="ResumeFlow", run_id="argo-first", step="start"),
        0,
        "stdout",
    )

    # From a step: that step and everything after it run again; what comes before is cloned.
    again = drive(
        "resume_flow.py", datastore, run_id="argo-third", subprocess_mode=True, resume="argo-first/body"
    )
    assert again.succeeded
    assert again.artifacts("start")["stamp"] == failed.artifacts("start")["stamp"]
    assert "cloned_from" not in again.task("body", "body-1")
    assert again.artifacts("body", "body-1")["body_stamp"] != failed.artifacts("body", "body-1")["body_stamp"]
    assert again.artifacts("fails_once")["total"] == 60
