"""`flowc run` and `flowc resume` against an S3 datastore (a moto server over real HTTP)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from flowc.client import Run
from tests.conformance.artifacts import assert_same_artifacts, collect_artifacts
from tests.conformance.matrix import FLOWS_DIR, REPO_ROOT


def _run(*words: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWC_")}
    env["PYTHONPATH"] = str(REPO_ROOT)
    return subprocess.run(
        [sys.executable, "-m", "flowc", *words],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=False,
    )


@pytest.mark.slow
@pytest.mark.parametrize("executor", ["fork", "subprocess"])
def test_foreach_on_s3_matches_the_local_datastore(s3_root: str, tmp_path: Path, executor: str) -> None:
    flow = str(FLOWS_DIR / "nested_foreach_flow.py")
    on_s3 = _run(
        "run", flow, "--datastore", s3_root, "--run-id-file", str(tmp_path / "s3"), "--executor", executor
    )
    assert on_s3.returncode == 0, on_s3.stderr
    local = _run("run", flow, "--datastore", str(tmp_path / "ds"), "--run-id-file", str(tmp_path / "local"))
    assert local.returncode == 0, local.stderr
    s3_id, local_id = (tmp_path / "s3").read_text(), (tmp_path / "local").read_text()
    assert_same_artifacts(
        collect_artifacts(str(tmp_path / "ds"), "NestedForeachFlow", local_id),
        collect_artifacts(s3_root, "NestedForeachFlow", s3_id),
    )
    run = Run(f"NestedForeachFlow/{s3_id}", datastore=s3_root, _namespace_check=False)
    assert run.successful and run.data.n == 6
