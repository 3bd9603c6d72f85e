"""``@pypi`` on the targets' engines (issue 17): each step imports its own version of tinypkg,
installed in the task from the datastore's wheelhouse by the bootstrap (no index in the "pod")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flowc.client import Run
from tests.environments.wheels import build_wheelhouse
from tests.sfn.fixtures import sfn_engine, sfn_env

__all__ = ["sfn_engine", "sfn_env"]

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


@pytest.mark.slow
def test_each_step_gets_its_version_on_step_functions(sfn_env: Any, pypi_settings: dict[str, object]) -> None:
    """Moto's Step Functions, every Batch job a local process started by the bootstrap (tests/sfn)."""
    from flowc.backends.options import CompileOptions
    from flowc.backends.sfn import BACKEND
    from flowc.backends.sfn.trigger import execution_input
    from flowc.config import load_settings
    from flowc.frontend import build_ir

    datastore = f"s3://{sfn_env.new_bucket()}/datastore"
    settings = load_settings({"datastore": datastore, **pypi_settings}, environ={})
    ir = build_ir(str(FLOW))
    package_sha = sfn_env.deploy_code(ir, settings, FLOW)  # locks recorded beside the package
    definition = BACKEND.compile(ir, settings, CompileOptions(package_sha=package_sha))[0].text
    assert "FLOWC_ENVIRONMENT" in definition and "tinypkg" not in definition  # a name, not a lock
    run_id, result = sfn_env.run(definition, execution_input({}, datastore))
    assert result["status"] == "SUCCEEDED", (result.get("error"), result.get("cause"))
    flow_run = Run(f"PypiVersionsFlow/{run_id}", datastore=datastore, _namespace_check=False)
    assert _versions(flow_run) == ("1.0", "2.0", None)


@pytest.fixture(scope="session")
def airflow_home(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    from tests.airflow.engine import session_airflow_home

    return session_airflow_home(request, tmp_path_factory)


@pytest.mark.slow
def test_each_step_gets_its_version_on_airflow(
    airflow_home: Any, tmp_path: Path, pypi_settings: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Airflow's ``dag.test()`` with the local-process operator: no bootstrap, so the task runner
    reads its step's environment from the flow and enters it itself."""
    from flowc.backends.airflow import compile_dag
    from flowc.backends.options import CompileOptions
    from flowc.config import load_settings
    from flowc.datastore.storage import open_storage
    from flowc.environments.resolve import host_platform_name, lock_environments
    from flowc.frontend import build_ir

    datastore = tmp_path / "datastore"
    settings = load_settings({"datastore": str(datastore), **pypi_settings}, start=tmp_path, environ={})
    ir = build_ir(str(FLOW))
    # What the worker finds: locks made for its platform (`flowc env resolve`), the flow file.
    lock_environments(ir, open_storage(str(datastore)), settings, platform=host_platform_name())
    dag_file = compile_dag(ir, settings, CompileOptions(operator="local"))
    monkeypatch.setenv("FLOWC_SOURCE", str(FLOW))
    monkeypatch.setenv("FLOWC_DATASTORE", str(datastore))
    monkeypatch.setenv("FLOWC_PACKAGE_CACHE", str(tmp_path / "cache"))
    result = airflow_home.test(dag_file.name, dag_file.text, {})
    assert result.state == "success", result.task_states
    run_id = result.flowc_run_id
    flow_run = Run(f"PypiVersionsFlow/{run_id}", datastore=str(datastore), _namespace_check=False)
    assert _versions(flow_run) == ("1.0", "2.0", None)


LOOP_FLOW = Path(__file__).parent / "flows" / "pypi_loop.py"


def test_a_loop_region_runs_each_step_in_its_own_environment_on_airflow(
    airflow_home: Any, tmp_path: Path, pypi_settings: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Airflow runs a loop as one task (the region runner); its steps' environments differ: each
    step's task enters its own. In a pod the region's task names no environment (the bootstrap
    would put one step's first on the path of every step): each step's task reads its own from the
    package's IR."""
    from flowc.backends.airflow import compile_dag
    from flowc.backends.options import CompileOptions
    from flowc.config import load_settings
    from flowc.datastore.storage import open_storage
    from flowc.environments.resolve import host_platform_name, lock_environments
    from flowc.frontend import build_ir

    datastore = tmp_path / "datastore"
    settings = load_settings({"datastore": str(datastore), **pypi_settings}, start=tmp_path, environ={})
    ir = build_ir(str(LOOP_FLOW))
    pods = compile_dag(ir, settings, CompileOptions(operator="kubernetes", package_sha="c0de" * 16)).text
    assert '"FLOWC_ENVIRONMENT"' not in pods  # both steps with an environment are in the region
    lock_environments(ir, open_storage(str(datastore)), settings, platform=host_platform_name())
    dag_file = compile_dag(ir, settings, CompileOptions(operator="local"))
    monkeypatch.setenv("FLOWC_SOURCE", str(LOOP_FLOW))
    monkeypatch.setenv("FLOWC_DATASTORE", str(datastore))
    monkeypatch.setenv("FLOWC_PACKAGE_CACHE", str(tmp_path / "cache"))
    result = airflow_home.test(dag_file.name, dag_file.text, {})
    assert result.state == "success", result.task_states
    flow_run = Run(f"PypiLoopFlow/{result.flowc_run_id}", datastore=str(datastore), _namespace_check=False)
    assert flow_run["end"].task["final"].data == [("old", "1.0"), ("new", "2.0")] * 2


INHERITED_FLOW = Path(__file__).parent / "flows" / "inherited_packages.py"


@pytest.mark.slow
def test_a_pypi_base_inherited_from_another_file_reaches_airflow_local_tasks(
    airflow_home: Any, tmp_path: Path, pypi_settings: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The flow file never names @pypi: its base flow (shared_packages.py) declares tinypkg 1.0.
    The local operator's task reads its step's environment from the flow's IR, as every target does."""
    from flowc.backends.airflow import compile_dag
    from flowc.backends.options import CompileOptions
    from flowc.config import load_settings
    from flowc.datastore.storage import open_storage
    from flowc.environments.resolve import host_platform_name, lock_environments
    from flowc.frontend import build_ir

    assert "pypi" not in INHERITED_FLOW.read_text()
    datastore = tmp_path / "datastore"
    settings = load_settings({"datastore": str(datastore), **pypi_settings}, start=tmp_path, environ={})
    ir = build_ir(str(INHERITED_FLOW))
    assert ir.step("start").python_environment is not None  # the base flow's @pypi_base
    lock_environments(ir, open_storage(str(datastore)), settings, platform=host_platform_name())
    dag_file = compile_dag(ir, settings, CompileOptions(operator="local"))
    monkeypatch.setenv("FLOWC_SOURCE", str(INHERITED_FLOW))
    monkeypatch.setenv("FLOWC_DATASTORE", str(datastore))
    monkeypatch.setenv("FLOWC_PACKAGE_CACHE", str(tmp_path / "cache"))
    result = airflow_home.test(dag_file.name, dag_file.text, {})
    assert result.state == "success", result.task_states
    run_id = result.flowc_run_id
    run = Run(f"InheritedPackagesFlow/{run_id}", datastore=str(datastore), _namespace_check=False)
    assert run["start"].task["version"].data == "1.0"


def test_a_corrupt_wheel_fails_the_deployed_task_naming_it(
    tmp_path: Path, pypi_settings: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bootstrap checks every wheel it fetches against the lock's SHA-256 (exit 3, the wheel named)."""
    from flowc.config import load_settings
    from flowc.datastore.storage import open_storage
    from flowc.environments.resolve import host_platform_name, lock_environments
    from flowc.frontend import build_ir
    from tests.argo.harness import run_flow

    datastore = tmp_path / "datastore"
    settings = load_settings({"datastore": str(datastore), **pypi_settings}, start=tmp_path, environ={})
    (lock, *_) = lock_environments(
        build_ir(str(FLOW)), open_storage(str(datastore)), settings, platform="linux_x86_64"
    ).values()
    assert host_platform_name() == "linux_x86_64"  # the "pod" runs here: the same wheels
    wheel = lock.wheels[0]
    stored = datastore / "objects" / wheel.sha256[:2] / wheel.sha256
    stored.write_bytes(stored.read_bytes()[:-10] + b"corrupted!")
    monkeypatch.setenv("FLOWC_PACKAGE_CACHE", str(tmp_path / "cache"))
    cache = {"FLOWC_PACKAGE_CACHE": str(tmp_path / "cache")}
    run = run_flow(FLOW, tmp_path / "work", str(datastore), settings=pypi_settings, env=cache)
    assert run.result.phase == "Failed" and "exit code 3" in run.result.message
    logs = "".join(p.read_text(errors="replace") for p in (tmp_path / "work").rglob("main.log"))
    assert f"wheel {wheel.file} of environment {lock.environment} is corrupt in the wheelhouse" in logs
