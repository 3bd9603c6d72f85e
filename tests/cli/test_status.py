"""``flowc status RUN`` as a user types it: a failed run's steps, task counts and failed task with
its error; a successful run; one-line errors for a bad pathspec."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

FLOWS = Path(__file__).resolve().parents[1] / "conformance" / "flows"
REPO = Path(__file__).resolve().parents[2]


def _flowc(*words: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flowc", *words],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=180,
        check=False,
    )


def test_status_of_a_failed_run_then_of_its_successful_resume(tmp_path: Path) -> None:
    flow = str(FLOWS / "resume_flow.py")
    failed = _flowc("run", flow, "--datastore", "ds", "--run-id-file", "first", cwd=tmp_path)
    assert failed.returncode == 1
    run_id = (tmp_path / "first").read_text()
    shown = _flowc("status", f"ResumeFlow/{run_id}", "--datastore", "ds", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == f"Run ResumeFlow/{run_id}: failed"
    assert any("ended by:" in line and "fails until the run is resumed" in line for line in lines)
    assert [line.split()[0] for line in lines if line.startswith("    ")] == [
        "start", "body", "join", "fails_once"
    ]  # fmt: skip
    assert any(line.split()[:2] == ["body", "3/3"] for line in lines)
    assert any(line.split()[:4] == ["fails_once", "0/1", "successful,", "1"] for line in lines)
    error = "RuntimeError: fails until the run is resumed"
    assert f"  failed: ResumeFlow/{run_id}/fails_once/fails_once (attempt 0): {error}" in lines

    resumed = _flowc("resume", flow, "--datastore", "ds", "--run-id-file", "second", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    second = (tmp_path / "second").read_text()
    # Metaflow's form: `python FLOW.py status RUN_ID`, the flow being the file's.
    shown = subprocess.run(
        [sys.executable, flow, "status", second, "--datastore", str(tmp_path / "ds")],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=180,
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[0] == f"Run ResumeFlow/{second}: successful"
    assert "failed:" not in shown.stdout and "end" in shown.stdout


def test_a_bad_pathspec_is_one_line(tmp_path: Path) -> None:
    for pathspec, said in [
        ("ResumeFlow/nope", "not found"),
        ("ResumeFlow/1/start", "must look like 'Flow/run_id'"),
        ("Bad Flow/1", "flow name 'Bad Flow' is not valid"),
    ]:
        done = _flowc("status", pathspec, "--datastore", "ds", cwd=tmp_path)
        assert done.returncode == 1
        assert done.stderr.count("\n") == 1 and said in done.stderr and "Traceback" not in done.stderr
