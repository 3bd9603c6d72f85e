"""Shapes beyond the conformance matrix, executed on the Step Functions engine: a loop inside a
foreach, switch cases converging (also inside a branch), a loop with several exits into a foreach.
Each run is compared artifact by artifact with ``flowc run``."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowc.backends.sfn import BACKEND
from flowc.backends.sfn.naming import job_definition_name
from flowc.backends.sfn.trigger import execution_input
from flowc.config import load_settings
from flowc.datastore.storage import open_storage
from flowc.frontend import build_ir
from flowc.package import build_package, store_package
from tests.conformance.artifacts import assert_same_artifacts, collect_artifacts
from tests.conformance.matrix import Case, run_local
from tests.sfn.compiling import SFN_FLOWS
from tests.sfn.engine import SfnEngine

SHAPES = [
    ("loop_in_foreach_flow.py", {}),
    ("converging_switch_flow.py", {"mode": "detour"}),
    ("converging_switch_flow.py", {"mode": "direct"}),
    ("loop_exits_flow.py", {"limit": "2"}),
]


@pytest.mark.slow
@pytest.mark.parametrize(("flow_file", "parameters"), SHAPES, ids=lambda v: str(v))
def test_shape_matches_local_run(
    flow_file: str, parameters: dict[str, str], sfn_env: SfnEngine, tmp_path: Path
) -> None:
    path = SFN_FLOWS / flow_file
    ir = build_ir(path)
    datastore = f"s3://{sfn_env.new_bucket()}/datastore"
    settings = load_settings({"datastore": datastore}, environ={})
    sfn_env.job_definition(job_definition_name(ir, settings))
    # These flows are not in the jobs' working directory: tasks fetch the code package by hash.
    package = build_package(path, settings=settings)
    store_package(open_storage(datastore), package)
    definition = BACKEND.compile(ir, settings, {"package_sha": package.sha})[0].text
    run_id, result = sfn_env.run(definition, execution_input(parameters, datastore))
    assert result["status"] == "SUCCEEDED", (result.get("error"), result.get("cause"))

    case = Case(path.stem, str(path), ir.name, parameters=parameters)
    local, local_run = run_local(case, tmp_path / "local")
    assert local.returncode == 0, local.stderr
    expected = collect_artifacts(str(tmp_path / "local"), ir.name, local_run)
    assert_same_artifacts(expected, collect_artifacts(datastore, ir.name, run_id))
