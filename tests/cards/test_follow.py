"""`flowc card view --follow` on a running task: the file shows the live card, then the final one."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cards.conftest import REPO

FLOW = Path(__file__).parent / "flows" / "live_card_flow.py"


def _wait_for(path: Path, what: str) -> None:
    for _ in range(1200):  # bounded: a broken run fails the test instead of hanging it
        if path.exists() and path.stat().st_size > 0:
            return
        time.sleep(0.05)
    pytest.fail(f"{what} never appeared at {path}")


@pytest.mark.slow
def test_view_follow_keeps_the_file_current_until_the_task_ends(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWC_")}
    env.update(PYTHONPATH=str(REPO), LIVE_CARD_GO=str(tmp_path / "go"))
    datastore = str(tmp_path / "ds")
    flowc = [sys.executable, "-m", "flowc"]
    run = subprocess.Popen(
        [*flowc, "run", str(FLOW), "--datastore", datastore, "--run-id-file", str(tmp_path / "run-id")],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    viewer = None
    try:
        _wait_for(tmp_path / "run-id", "the run id")
        run_id = (tmp_path / "run-id").read_text().strip()
        index = (
            tmp_path
            / "ds"
            / "runs"
            / "LiveCardFlow"
            / run_id
            / "start"
            / "start"
            / "cards"
            / "attempt-0"
            / "index.json"
        )
        _wait_for(index, "the first runtime render")
        out = tmp_path / "live.html"
        viewer = subprocess.Popen(
            [
                *flowc,
                "card",
                "view",
                f"LiveCardFlow/{run_id}/start/start",
                "--follow",
                "--no-browser",
                "--out",
                str(out),
                "--interval",
                "0.1",
                "--datastore",
                datastore,
            ],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert viewer.stdout is not None and viewer.stdout.readline().strip() == str(out)
        live = out.read_text()
        assert "round" in live and 'http-equiv="refresh"' in live  # the running task's card
        (tmp_path / "go").touch()
        assert viewer.wait(timeout=120) == 0, viewer.stderr.read() if viewer.stderr else ""
        assert run.wait(timeout=120) == 0, run.stderr.read() if run.stderr else ""
        final = out.read_text()
        assert "<p>done</p>" in final and 'http-equiv="refresh"' not in final
    finally:
        for process in (viewer, run):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()


@pytest.mark.slow
def test_a_running_tasks_card_shows_its_latest_refresh(tmp_path: Path) -> None:
    """`bar.update(n); current.card.refresh()` while the task runs: the card a user opens then
    (`flowc card get`, `view --follow`, `flowc ui`) shows n, not the value of its first render."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWC_")}
    updated, go = tmp_path / "updated", tmp_path / "go"
    env.update(PYTHONPATH=str(REPO), PROGRESS_UPDATED=str(updated), PROGRESS_GO=str(go))
    datastore = str(tmp_path / "ds")
    flowc = [sys.executable, "-m", "flowc"]
    flow = Path(__file__).parent / "flows" / "progress_card_flow.py"
    run = subprocess.Popen(
        [*flowc, "run", str(flow), "--datastore", datastore, "--run-id-file", str(tmp_path / "run-id")],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(2400):  # bounded: a broken run fails the test instead of hanging it
            if updated.exists() or run.poll() is not None:
                break
            time.sleep(0.05)
        assert updated.exists(), run.stderr.read() if run.poll() is not None and run.stderr else "no refresh"
        run_id = (tmp_path / "run-id").read_text().strip()
        card = subprocess.run(
            [*flowc, "card", "get", f"ProgressCardFlow/{run_id}/start/start", "--datastore", datastore],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert card.returncode == 0, card.stderr
        assert 'value="3.0"' in card.stdout and 'http-equiv="refresh"' in card.stdout
        go.touch()
        assert run.wait(timeout=120) == 0, run.stderr.read() if run.stderr else ""
    finally:
        go.touch()
        if run.poll() is None:
            run.kill()
            run.wait()
