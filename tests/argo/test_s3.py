"""The Argo interpreter against an S3 datastore (moto server on 127.0.0.1): the code package and
every artifact go through S3, as in a cluster."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.argo.harness import run_flow
from tests.conformance.artifacts import assert_same_artifacts, collect_artifacts
from tests.conformance.matrix import case, local_reference


@pytest.mark.slow
def test_nested_foreach_on_s3(s3_root: str, tmp_path: Path) -> None:
    case_ = case("nested_foreach")
    expected = local_reference(case_.name, tmp_path)
    run = run_flow(case_.path, tmp_path / "pods", s3_root)
    assert run.result.phase == "Succeeded", run.result.message
    assert_same_artifacts(expected, collect_artifacts(s3_root, case_.flow_name, run.run_id))
