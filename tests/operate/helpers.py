"""What the operate tests share: the CLI in-process, waiting for a task to run, and the fault test
of every harness (a task killed mid-run, then resumed in place)."""

from __future__ import annotations

import contextlib
import io
import re
import time
from collections.abc import Callable
from pathlib import Path

from flowc.cli import main

__all__ = [
    "HOLD_FLOW",
    "SPANS_FLOW",
    "assert_one_at_a_time",
    "flowc",
    "kill_resume_and_compare",
    "started_run",
    "task_running",
    "wait_until",
]

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


def task_running(datastore: str, flow: str, run_id: str, step: str) -> bool:
    """The first attempt of ``step``'s task (outside any foreach and loop) is recorded and still running."""
    from flowc import metadata
    from flowc.datastore.storage import open_storage

    record = metadata.read_attempt(
        open_storage(datastore), metadata.TaskAddress(flow=flow, run_id=run_id, step=step), 0
    )
    return bool(record) and record.get("status") == "running"


#: What ``flowc trigger`` and ``flowc resume`` print with the new run's id on each target
#: (``... run id argo-x``, ``run id sfn-x``, ``flowc run id: airflow-x``).
_RUN_ID = re.compile(r"run id:? (\S+)")


def started_run(out: str, target: str) -> str:
    """The flowc run id ``flowc trigger`` or ``flowc resume`` printed (Airflow prints its own
    DAG run id too)."""
    found = [run_id for run_id in _RUN_ID.findall(out) if run_id.startswith(f"{target}-")]
    assert found, out
    return found[0]


def resume_in_place_and_compare(target: str, datastore: str, flow_file: Path, failed: str) -> dict:
    """ResumeFlow's failed run ``failed`` resumed in place on ``target`` through the CLI, as every
    harness checks it: whole (start, the foreach's three bodies, i.e. its width, and the join are
    cloned, ``fails_once`` runs again and knows its origin), then from the step ``body`` (it runs
    again with new stamps, what is before it is cloned). Returns the failed run's artifacts."""
    from tests.conformance.artifacts import collect_artifacts

    code, out, err = flowc("resume", str(flow_file), "--target", target, "--origin-run-id", failed, "--wait")
    assert code == 0, out + err
    resumed = started_run(out, target)
    assert resumed != failed
    before = collect_artifacts(datastore, "ResumeFlow", failed)
    after = collect_artifacts(datastore, "ResumeFlow", resumed)
    for key in [("start", "start"), *[("body", f"body-{i}") for i in range(3)], ("join", "join")]:
        assert after[key] == before[key]
    assert after[("fails_once", "fails_once")]["total"] == 60
    assert after[("fails_once", "fails_once")]["resumed_from"] == failed
    code, out, _ = flowc("status", f"ResumeFlow/{resumed}")
    assert f"Run ResumeFlow/{resumed}: successful" in out

    code, out, err = flowc(
        "resume", str(flow_file), "--target", target, "--origin-run-id", failed, "body", "--wait"
    )  # fmt: skip
    assert code == 0, out + err
    again = collect_artifacts(datastore, "ResumeFlow", started_run(out, target))
    assert again[("start", "start")] == before[("start", "start")]
    assert again[("body", "body-1")]["body_stamp"] != before[("body", "body-1")]["body_stamp"]
    return before


def kill_resume_and_compare(target: str, datastore: str, gate: Path) -> None:
    """The fault test of every harness, through the CLI as a user types it: a deployed HoldFlow's
    ``hold`` task is SIGKILLed mid-step while ``flowc logs --follow`` streams what it uploaded;
    ``flowc status`` names the failed task and its error; ``flowc resume`` (refused while the run
    may still be running) resumes it in place, and every artifact of the resumed run equals a clean
    run's. HoldFlow must be deployed on ``target`` and ``gate`` must not exist."""
    import os
    import signal
    import subprocess
    import sys

    from flowc import metadata
    from flowc.datastore.storage import open_storage
    from tests.conformance.artifacts import collect_artifacts

    code, out, err = flowc("trigger", str(HOLD_FLOW), "--target", target, "--gate", str(gate), "--lines", "2")
    assert code == 0, err
    killed = started_run(out, target)
    task = f"HoldFlow/{killed}/hold/hold"
    wait_until(lambda: task_running(datastore, "HoldFlow", killed, "hold"), "hold to run", 180)
    follow = subprocess.Popen(
        [sys.executable, "-m", "flowc", "logs", "--follow", task, "--stdout"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    try:
        # What hold printed is uploaded while it waits at its gate, before anything kills it.
        wait_until(lambda: "holding 1" in flowc("logs", task, "--stdout")[1], "hold's live log")
        code, _, err = flowc("resume", str(HOLD_FLOW), "--target", target, "--origin-run-id", killed)
        assert code == 2 and "may still be running" in err, err
        address = metadata.TaskAddress(flow="HoldFlow", run_id=killed, step="hold")
        os.kill(metadata.read_attempt(open_storage(datastore), address, 0)["pid"], signal.SIGKILL)
        status = wait_until(
            lambda: (
                (out := flowc("status", f"HoldFlow/{killed}")[1]).startswith(f"Run HoldFlow/{killed}: failed")
                and "no task recorded the run's end" not in out  # but recorded by the run's end
                and out
            ),
            "the run to fail",
            180,
        )
        followed, follow_err = follow.communicate(timeout=120)
    finally:
        follow.kill()
    assert followed == "holding 0\nholding 1\n", follow_err  # ended with the task, its lines kept
    assert "hold   0/1 successful, 1 failed" in status, status
    assert f"failed: {task} (attempt 0): the task process was killed by signal SIGKILL" in status, status

    gate.touch()
    code, out, err = flowc("resume", str(HOLD_FLOW), "--target", target, "--origin-run-id", killed, "--wait")
    assert code == 0, out + err
    resumed = started_run(out, target)
    assert resumed != killed and resumed.startswith(f"{target}-")
    code, out, err = flowc(
        "trigger", str(HOLD_FLOW), "--target", target, "--gate", str(gate), "--lines", "2", "--wait"
    )  # fmt: skip
    assert code == 0, out + err
    clean = collect_artifacts(datastore, "HoldFlow", started_run(out, target))
    assert collect_artifacts(datastore, "HoldFlow", resumed) == clean


SPANS_FLOW = Path(__file__).parent / "flows" / "spans_flow.py"


def assert_one_at_a_time(datastore: str, run_id: str) -> None:
    """SpansFlow's foreach tasks of ``run_id`` ran one after the other (``--max-workers 1``)."""
    import itertools

    from tests.conformance.artifacts import collect_artifacts

    spans = collect_artifacts(datastore, "SpansFlow", run_id)[("join", "join")]["spans"]
    assert len(spans) == 3
    assert all(earlier[1] <= later[0] for earlier, later in itertools.pairwise(spans)), spans


NESTED_FLOW = Path(__file__).parent / "flows" / "resume_nested_flow.py"


def resume_nested_after_a_code_change(
    target: str,
    datastore: str,
    folder: Path,
    deploy: list[str],
    deployed: Callable[[], object] = lambda: None,
) -> None:
    """A failed run of a nested foreach, its failing step's code changed and deployed again, then
    resumed in place: every task before that step is cloned (both foreach widths, the random stamps
    kept) and the step runs its new code; ``--tag`` tags the new run, in the production namespace.
    ``deploy``: the target's ``flowc deploy`` options; ``deployed()`` returns once the engine can
    run what was deployed."""
    from flowc.client import Run
    from tests.conformance.artifacts import collect_artifacts

    flow = folder / "resume_nested_flow.py"
    flow.write_text(NESTED_FLOW.read_text())
    code, _, err = flowc("deploy", str(flow), "--target", target, *deploy)
    assert code == 0, err
    deployed()
    code, out, err = flowc("trigger", str(flow), "--target", target, "--wait")
    assert code == 1, out + err
    failed = started_run(out, target)

    flow.write_text(NESTED_FLOW.read_text().replace("self.total  # CHANGED BY THE TEST", "self.total * 100"))
    code, _, err = flowc("deploy", str(flow), "--target", target, *deploy)
    assert code == 0, err
    deployed()
    code, out, err = flowc(
        "resume", str(flow), "--target", target, "--origin-run-id", failed, "--tag", "fixed", "--wait"
    )  # fmt: skip
    assert code == 0, out + err
    resumed = started_run(out, target)
    before = collect_artifacts(datastore, "ResumeNestedFlow", failed)
    after = collect_artifacts(datastore, "ResumeNestedFlow", resumed)
    assert sorted(step for step, _ in before) == ["inner_join"] * 2 + ["leaf"] * 6 + ["mid"] * 2 + [
        "outer_join",
        "start",
    ]
    for key in before:
        assert after[key] == before[key], key
    [ran] = [values for (step, _), values in after.items() if step == "fails_once"]
    assert ran["result"] == 1800, ran  # 100 * (1 + 2 + 3) * (1 + 2): the new code ran
    run = Run(f"ResumeNestedFlow/{resumed}", datastore=datastore, _namespace_check=False)
    assert run.origin_run_id == failed and "fixed" in run.user_tags
    origin = Run(f"ResumeNestedFlow/{failed}", datastore=datastore, _namespace_check=False)
    production = {tag for tag in origin.system_tags if tag.startswith("production:")}
    assert production and production <= set(run.system_tags) and run.user == origin.user
