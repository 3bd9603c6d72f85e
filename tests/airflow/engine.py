"""Running compiled DAG files on the real Airflow installed in the venv, in this process.

One Airflow home per test session (``airflow db migrate`` costs ~7 s): :func:`prepare_airflow_home`
sets the environment Airflow reads when it is first imported. ``dag.test()`` re-parses the whole
DAGs folder on every call and Airflow caches the folder's location, so every DAG file of the
session goes into that one folder, each under its own DAG id, and leaves it once it has run.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

__all__ = ["AirflowHome", "DagResult", "prepare_airflow_home", "session_airflow_home"]

#: Where the session keeps its Airflow home (pytest's per-session stash, not module state).
_HOME = pytest.StashKey["AirflowHome"]()


def airflow_environment(home: Path) -> dict[str, str]:
    """The variables that point Airflow at ``home`` (SQLite, no examples, no network)."""
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
    }


def prepare_airflow_home(home: Path) -> dict[str, str]:
    """Creates the folders and the metadata database; returns the environment to use."""
    if "airflow" in sys.modules and os.environ.get("AIRFLOW_HOME") != str(home):
        raise RuntimeError("airflow was imported before the test session's AIRFLOW_HOME was set")
    (home / "dags").mkdir(parents=True, exist_ok=True)
    environment = airflow_environment(home)
    env = {**os.environ, **environment}
    airflow = Path(sys.executable).with_name("airflow")
    result = subprocess.run(
        [str(airflow), "db", "migrate"], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"airflow db migrate failed:\n{result.stdout}\n{result.stderr}")
    return environment


@dataclass
class DagResult:
    """The outcome of one ``dag.test()``: the DAG run's state and its task instances."""

    module: Any
    state: str
    run_id: str
    task_states: dict[tuple[str, int], str]
    tries: dict[tuple[str, int], int]
    flowc_run_id: str


@dataclass
class AirflowHome:
    """The session's Airflow home and its DAGs folder."""

    path: Path

    @property
    def dags(self) -> Path:
        return self.path / "dags"

    def install(self, file_name: str, text: str) -> Path:
        """Writes a DAG file into the DAGs folder (atomically, so a parse never sees half a file)."""
        target = self.dags / file_name
        temporary = target.with_suffix(".tmp")
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(target)
        return target

    def load(self, path: Path) -> Any:
        """Imports a DAG file as a fresh module (its ``dag`` attribute is the DAG)."""
        name = f"flowc_dag_{path.stem}_{abs(hash(path.read_text()))}"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    def test(
        self, file_name: str, text: str, conf: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> DagResult:
        """Installs a DAG file and runs it with ``dag.test()`` in this process.

        The file is removed afterwards: ``dag.test()`` parses and syncs every file in the DAGs
        folder, so files left there by earlier tests would make each later run slower.
        """
        path = self.install(file_name, text)
        try:
            module = self.load(path)
            run = module.dag.test(run_conf=dict(conf or {}), **kwargs)
        finally:
            path.unlink(missing_ok=True)
        instances = run.get_task_instances()
        return DagResult(
            module=module,
            state=str(run.state),
            run_id=run.run_id,
            task_states={(ti.task_id, ti.map_index): str(ti.state) for ti in instances},
            tries={(ti.task_id, ti.map_index): ti.try_number for ti in instances},
            flowc_run_id=module.flowc_run_id(run.run_id),
        )


def session_airflow_home(request: pytest.FixtureRequest, factory: pytest.TempPathFactory) -> AirflowHome:
    """The test session's one Airflow home, created on first use.

    Several test folders define an ``airflow_home`` fixture; they all end here, so Airflow (which
    reads ``AIRFLOW_HOME`` once, at its first import) sees a single home per session.
    """
    stash = request.config.stash
    if _HOME not in stash:
        # find_spec, not importorskip: importing airflow now would fix its home too early.
        if importlib.util.find_spec("airflow") is None:
            pytest.skip("Apache Airflow is not installed")
        home = factory.mktemp("airflow-home")
        environment = prepare_airflow_home(home)
        patch = pytest.MonkeyPatch()
        for name, value in environment.items():
            patch.setenv(name, value)
        request.config.add_cleanup(patch.undo)
        stash[_HOME] = AirflowHome(home)
    return stash[_HOME]
