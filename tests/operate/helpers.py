"""What the operate tests share: the CLI in-process, and waiting for a task to run."""

from __future__ import annotations

import contextlib
import io
import time
from pathlib import Path

from flowc.cli import main

__all__ = ["HOLD_FLOW", "flowc", "wait_until"]

HOLD_FLOW = Path(__file__).parent / "flows" / "hold_flow.py"


def flowc(*argv: str) -> tuple[int, str, str]:
    """``flowc ARGV`` in this process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def wait_until(condition, what: str, timeout: float = 120.0):
    """Polls ``condition()`` until it returns something true; returns that."""
    deadline = time.monotonic() + timeout
    while True:
        found = condition()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def task_running(datastore: str, flow: str, run_id: str, step: str, task: str) -> bool:
    """The task's first attempt is recorded and still running."""
    from flowc import metadata
    from flowc.datastore.storage import open_storage

    record = metadata.read_attempt(open_storage(datastore), metadata.TaskAddress(flow, run_id, step, task), 0)
    return bool(record) and record.get("status") == "running"
