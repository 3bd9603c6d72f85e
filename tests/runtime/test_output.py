"""Task output reaches the console whole, each line prefixed with the task's pathspec."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from flowc.client import Run
from tests.conformance.matrix import REPO_ROOT

CHATTY = Path(__file__).parent / "flows" / "chatty_flow.py"


def test_every_line_is_streamed_with_its_prefix_and_stored(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWC_")}
    env["PYTHONPATH"] = str(REPO_ROOT)
    command = [sys.executable, "-m", "flowc", "run", str(CHATTY), "--datastore", str(tmp_path / "ds")]
    command += ["--run-id-file", str(tmp_path / "id")]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    run_id = (tmp_path / "id").read_text()
    prefix = f"[ChattyFlow/{run_id}/start/start] "
    streamed = [
        line[len(prefix) :] for line in result.stdout.splitlines() if line.startswith(prefix + "out line")
    ]
    assert streamed == [f"out line {i}" for i in range(20000)]
    assert f"{prefix}to stderr" in result.stderr.splitlines()
    assert f"[ChattyFlow/{run_id}/end/end] no newline at the end" in result.stdout.splitlines()
    assert "FLOWC_CONTROL" not in result.stdout  # the runner's control line is for the runtime only
    run = Run(f"ChattyFlow/{run_id}", datastore=str(tmp_path / "ds"), _namespace_check=False)
    assert run["start"].task.stdout.count("out line") == 20000
