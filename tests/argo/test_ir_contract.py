"""The IR is the contract between a compiled document and its tasks (issue 13 item 2): a workflow
whose code package holds another IR than the one its document was compiled from fails at its
first task, with one line saying so, and no step runs."""

from __future__ import annotations

from pathlib import Path

from tests.argo.harness import run_flow
from tests.conformance.matrix import FLOWS_DIR


def test_a_package_of_other_code_is_refused_by_the_first_task(tmp_path: Path) -> None:
    compiled = tmp_path / "code" / "linear_flow.py"
    compiled.parent.mkdir()
    source = (FLOWS_DIR / "linear_flow.py").read_text(encoding="utf-8")
    compiled.write_text(source, encoding="utf-8")
    edited = tmp_path / "edited" / "linear_flow.py"
    edited.parent.mkdir()
    edited.write_text(
        source.replace("@step", "@retry(times=1)\n    @step", 1).replace(
            "from flowc import ", "from flowc import retry, ", 1
        ),
        encoding="utf-8",
    )

    datastore = str(tmp_path / "ds")
    run = run_flow(compiled, tmp_path / "pods", datastore, package_from=edited)
    assert run.result.phase == "Failed"
    (start,) = [n for n in run.result.containers() if n.template.endswith("start")]
    assert start.exit_code == 2, start
    assert "compiled from IR" in start.message, start.message
    assert not (
        tmp_path / "ds" / "runs" / "LinearFlow" / run.run_id / "start" / "start" / "task.json"
    ).exists()
