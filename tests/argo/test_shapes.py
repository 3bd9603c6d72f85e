"""Shapes beyond the conformance flows that stress the Argo lowering (a switch inside a foreach, a
branch inside a nested foreach, @retry/@catch/@timeout inside a foreach body and on its join,
switch keys and values that look like template tags, step names the document uses itself, a loop
leaving into a split's join, loops as converging switch cases): each run through the Argo
interpreter gives the same artifacts as `flowc run`. A foreach over nothing fails, naming the step.
(Loops inside a foreach, converging switch cases and a loop with several exits are conformance
rows: tests/conformance/matrix.py.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from flowc.backends.argo.lint import schema_problems, semantic_problems
from tests.argo.harness import REPO_ROOT, run_flow
from tests.conformance.artifacts import assert_same_artifacts, collect_artifacts
from tests.conformance.matrix import FLOWS_DIR

FLOWS = Path(__file__).parent / "flows"
CASES = [
    ("switch_in_foreach_flow.py", "SwitchInForeachFlow", {}),
    ("reserved_names_flow.py", "ReservedNamesFlow", {}),
    ("loops_converge_flow.py", "LoopsConvergeFlow", {"route": "a"}),
    ("loops_converge_flow.py", "LoopsConvergeFlow", {"route": "b"}),
    ("decorated_foreach_flow.py", "DecoratedForeachFlow", {}),
    ("awkward_values_flow.py", "AwkwardValuesFlow", {}),
    ("awkward_values_flow.py", "AwkwardValuesFlow", {"pick": "it's {{x}}", "text": "{{=sprig.env('HOME')}}"}),
    ("awkward_values_flow.py", "AwkwardValuesFlow", {"pick": "back\\slash\nline", "text": "}}{{pod.name}}"}),
]


def _local_run(flow: Path, datastore: Path, parameters: dict[str, str]) -> str:
    run_id_file = datastore.parent / "local.run_id"
    command = [sys.executable, "-m", "flowc", "run", str(flow), "--datastore", str(datastore)]
    command += ["--run-id-file", str(run_id_file)]
    for name, value in parameters.items():
        command += [f"--{name}", value]
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWC_")}
    env["PYTHONPATH"] = str(REPO_ROOT)
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return run_id_file.read_text().strip()


@pytest.mark.slow
@pytest.mark.parametrize(("file", "flow_name", "parameters"), CASES, ids=lambda v: str(v))
def test_shape_matches_local_run(file: str, flow_name: str, parameters: dict, tmp_path: Path) -> None:
    local_id = _local_run(FLOWS / file, tmp_path / "local", parameters)
    run = run_flow(FLOWS / file, tmp_path / "pods", str(tmp_path / "argo"), parameters=parameters)
    assert schema_problems(run.document) == [] and semantic_problems(run.document) == []
    assert run.result.phase == "Succeeded", run.result.message
    expected = collect_artifacts(str(tmp_path / "local"), flow_name, local_id)
    assert_same_artifacts(expected, collect_artifacts(str(tmp_path / "argo"), flow_name, run.run_id))


def test_a_foreach_over_nothing_fails_naming_the_step(tmp_path: Path) -> None:
    run = run_flow(FLOWS_DIR / "empty_foreach_flow.py", tmp_path / "pods", str(tmp_path / "argo"))
    assert run.result.phase == "Failed"
    (failed,) = [n for n in run.result.containers() if n.phase == "Failed"]
    assert failed.path == "main.start"
    assert "step 'start' at empty_foreach_flow.py:10: foreach over 'items', which is empty" in failed.message
    assert not any("body" in n.path for n in run.result.nodes)
