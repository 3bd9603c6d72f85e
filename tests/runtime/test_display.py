"""The console: prefixed task lines everywhere, a live progress line only on a terminal."""

from __future__ import annotations

import io

from flowc.runtime.display import Console


def test_plain_output_has_prefixed_lines_and_no_control_characters() -> None:
    out, err = io.StringIO(), io.StringIO()
    console = Console(out, err, live=False)
    console.progress.started("start")
    console.task_output("F/1/start/start", "stdout", "hello")
    console.task_output("F/1/start/start", "stderr", "warning")
    console.refresh(force=True)
    assert out.getvalue() == "[F/1/start/start] hello\n"
    assert err.getvalue() == "[F/1/start/start] warning\n"


def test_live_progress_line_counts_tasks_and_stays_below_the_log() -> None:
    out = io.StringIO()
    console = Console(out, io.StringIO(), live=True)
    console.open("F/1", total_steps=4)
    console.progress.started("body")
    console.progress.started("body")
    console.progress.ended("body", ok=True)
    console.refresh(force=True)
    assert "F/1  steps 1/4  tasks: 1 done, 1 running, 0 failed" in out.getvalue()
    assert "[body(1)]" in out.getvalue()
    console.task_output("F/1/body/body", "stdout", "line")
    text = out.getvalue()
    # The status line is erased before the log line and drawn again after it.
    assert text.index("\r\x1b[K[F/1/body/body] line\n") < text.rindex("tasks: 1 done")
    console.close()
    assert out.getvalue().endswith("\r\x1b[K")
    console.event("after the run")
    assert out.getvalue().endswith("after the run\n")  # no status line once closed
