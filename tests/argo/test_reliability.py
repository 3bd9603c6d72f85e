"""On Argo too, a task succeeded only when its record says so (issue 19 item 1): a step that ends
its process with status 0 before its task is recorded fails the workflow and the run."""

from __future__ import annotations

from pathlib import Path

from flowc.client import Run
from tests.argo.harness import run_flow

EXITING = Path(__file__).resolve().parents[1] / "runtime" / "flows" / "exiting_flow.py"


def test_a_step_exiting_0_before_its_record_fails_the_workflow_and_the_run(
    s3_root: str, tmp_path: Path
) -> None:
    run = run_flow(EXITING, tmp_path, s3_root, env={"EXIT_IN": "end"})
    assert run.result.phase == "Failed", run.result.message
    status = Run(f"ExitingFlow/{run.run_id}", datastore=s3_root, _namespace_check=False).status
    assert status["status"] == "failed" and "end" in status["reason"], status
