"""``@pypi`` on the targets' engines (issue 17): each step imports its own version of tinypkg,
installed in the task from the datastore's wheelhouse by the bootstrap (no index in the "pod")."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowc.client import Run
from tests.environments.wheels import build_wheelhouse

FLOW = Path(__file__).parent / "flows" / "pypi_versions.py"


@pytest.fixture
def pypi_settings(tmp_path: Path) -> dict[str, object]:
    return {"pypi.no_index": True, "pypi.find_links": (str(build_wheelhouse(tmp_path / "wheels")),)}


def _versions(run: Run) -> tuple[object, object, object]:
    return (
        run["start"].task["start_version"].data,
        run["second"].task["second_version"].data,
        run["end"].task["end_version"].data,
    )


def test_each_step_gets_its_version_on_the_argo_executor(
    tmp_path: Path, pypi_settings: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.argo.harness import run_flow

    monkeypatch.setenv("FLOWC_PACKAGE_CACHE", str(tmp_path / "cache"))
    datastore = str(tmp_path / "datastore")
    cache = {"FLOWC_PACKAGE_CACHE": str(tmp_path / "cache")}
    run = run_flow(FLOW, tmp_path / "work", datastore, settings=pypi_settings, env=cache)
    assert run.result.phase == "Succeeded", run.result.message
    flow_run = Run(f"PypiVersionsFlow/{run.run_id}", datastore=datastore, _namespace_check=False)
    assert _versions(flow_run) == ("1.0", "2.0", None)
    assert flow_run["second"].task.environment["wheels"][0]["version"] == "2.0"
