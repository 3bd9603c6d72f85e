"""On Argo too, @catch's fallback (flowc.attempts): a step SIGKILLed on every attempt gets one more,
which records FailureHandledByCatch, and the workflow succeeds."""

from __future__ import annotations

from pathlib import Path

from flowc.client import Run
from tests.argo.harness import run_flow

DYING = Path(__file__).resolve().parents[1] / "runtime" / "flows" / "dying_catch_flow.py"


def test_a_step_killed_on_every_attempt_is_handled_by_catch_on_argo(s3_root: str, tmp_path: Path) -> None:
    run = run_flow(DYING, tmp_path, s3_root)
    assert run.result.phase == "Succeeded", run.result.message
    flow_run = Run(f"DyingCatchFlow/{run.run_id}", datastore=s3_root, _namespace_check=False)
    task = flow_run["dies"].task
    assert sorted(m.value for m in task.metadata if m.type == "attempt") == ["0", "1", "2", "3"]
    assert flow_run["end"].task.data.ex_type == "flowc.task_runner.errors.FailureHandledByCatch"
