"""The Argo column of the conformance matrix.

Each case is compiled to a WorkflowTemplate, validated (strict schema, hera, semantic checks), and
executed by the Argo DAG interpreter (tests/argo/executor.py), whose containers run
``python -m flowc.task_runner --package <sha>`` as local processes against a fresh datastore. Every
artifact of every task must equal the local runtime's (``flowc run``) for the same case.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.argo.harness import run_flow
from tests.conformance.artifacts import assert_same_artifacts, collect_artifacts
from tests.conformance.matrix import Case, cases_for, local_reference

_SLOW = {"wide_foreach", "timeout", "parameters", "large_parameters"}


def _cases() -> list:
    return [
        pytest.param(c, id=c.name, marks=[pytest.mark.slow] if c.name in _SLOW else [])
        for c in cases_for("argo")
    ]


@pytest.mark.parametrize("case_", _cases())
def test_argo_column(case_: Case, tmp_path: Path) -> None:
    from flowc.backends.argo.lint import schema_problems, semantic_problems

    expected = local_reference(case_.name, tmp_path)
    datastore = str(tmp_path / "argo-ds")
    run = run_flow(
        case_.path, tmp_path / "pods", datastore, parameters=dict(case_.parameters), settings=case_.settings
    )
    assert schema_problems(run.document) == []
    assert semantic_problems(run.document) == []
    if case_.succeeds:
        assert run.result.phase == "Succeeded", run.result.message
    else:
        assert run.result.phase == "Failed"
        failed = [n for n in run.result.containers() if n.phase == "Failed"]
        assert [n.path.rsplit(".", 1)[-1] for n in failed] == [case_.failed_step], failed
    assert_same_artifacts(expected, collect_artifacts(datastore, case_.flow_name, run.run_id))
