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
            / "0"
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
                f"LiveCardFlow/{run_id}/start/0",
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
