"""Shapes beyond the conformance matrix, executed on the Step Functions engine: a switch inside a
foreach (with @retry, @catch and @timeout inside the Map and on the join), a split inside a nested
foreach. Each run is compared artifact by artifact with ``flowc run``; a foreach over nothing
fails, saying why. (Loops inside a foreach, converging switch cases and a loop with several exits
are conformance rows: tests/conformance/matrix.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from flowc.backends.options import CompileOptions
from flowc.backends.sfn import BACKEND
from flowc.backends.sfn.trigger import execution_input
from flowc.config import load_settings
from flowc.frontend import build_ir
from tests.conformance.artifacts import assert_same_artifacts, collect_artifacts
from tests.conformance.matrix import FLOWS_DIR, Case, run_local
from tests.sfn.compiling import SFN_FLOWS
from tests.sfn.engine import SfnEngine

SHAPES = [
    ("switch_in_foreach_flow.py", {}),
    ("branch_in_nested_foreach_flow.py", {}),
]


def _run(path: Path, parameters: dict[str, str], engine: SfnEngine) -> tuple[str, str, dict]:
    ir = build_ir(path)
    datastore = f"s3://{engine.new_bucket()}/datastore"
    settings = load_settings({"datastore": datastore}, environ={})
    # These flows are not in the jobs' working directory: tasks fetch the code package by hash.
    package_sha = engine.deploy_code(ir, settings, path)
    definition = BACKEND.compile(ir, settings, CompileOptions(package_sha=package_sha))[0].text
    run_id, result = engine.run(definition, execution_input(parameters, datastore))
    return datastore, run_id, result


@pytest.mark.slow
@pytest.mark.parametrize(("flow_file", "parameters"), SHAPES, ids=lambda v: str(v))
def test_shape_matches_local_run(
    flow_file: str, parameters: dict[str, str], sfn_env: SfnEngine, tmp_path: Path
) -> None:
    path = SFN_FLOWS / flow_file
    ir = build_ir(path)
    datastore, run_id, result = _run(path, parameters, sfn_env)
    assert result["status"] == "SUCCEEDED", (result.get("error"), result.get("cause"))

    case = Case(path.stem, str(path), ir.name, parameters=parameters)
    local, local_run = run_local(case, tmp_path / "local")
    assert local.returncode == 0, local.stderr
    expected = collect_artifacts(str(tmp_path / "local"), ir.name, local_run)
    assert_same_artifacts(expected, collect_artifacts(datastore, ir.name, run_id))


@pytest.mark.slow
def test_a_foreach_over_nothing_fails_saying_why(sfn_env: SfnEngine) -> None:
    _, run_id, result = _run(FLOWS_DIR / "empty_foreach_flow.py", {}, sfn_env)
    assert result["status"] == "FAILED"
    reason = result["cause"].split(". Caught: ")[0]
    assert reason.startswith(f"States.TaskFailed: task EmptyForeachFlow/{run_id}/start/start failed: ")
    assert "foreach over 'items', which is empty" in reason
