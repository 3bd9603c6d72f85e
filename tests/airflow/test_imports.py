"""The golden DAG files import where the scheduler parses them: with Airflow and its providers only
(flowc cannot be imported), on this Airflow and with the API of Airflow 3.0's Task SDK.

Each check is a child process (``python -I``: no current directory, no PYTHONPATH) whose import
system refuses ``flowc`` and ``tests``, then fills a real ``DagBag`` from a golden folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flowc.attempts import engine_retries
from flowc.backends.airflow.names import dag_id
from flowc.backends.airflow.plan import plan_tasks
from flowc.frontend import build_ir
from tests.airflow.engine import AirflowHome
from tests.airflow.golden import GOLDEN_DIR, OPERATORS, flow_files, golden_settings

pytestmark = pytest.mark.slow

#: The child's first lines: the editable install of flowc stays in sys.meta_path, so a finder in
#: front of it makes ``import flowc`` fail the way it fails on a scheduler without flowc.
WITHOUT_FLOWC = """
import importlib.abc, sys

class WithoutFlowc(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("flowc", "tests"):
            raise ModuleNotFoundError(f"No module named {name!r}")
        return None

sys.meta_path.insert(0, WithoutFlowc())
"""

#: Airflow 3.0.0 (Task SDK 1.0.0; checked against their wheels) lacks three names that later
#: releases have: the Task SDK's AirflowFailException (3.0 keeps it in airflow.exceptions), its
#: CronTriggerTimetable, and airflow.operators.python.get_current_context (core 3.0.0's
#: deprecation shim for airflow.operators.python does not list it). They are hidden once Airflow's
#: own modules have imported them, so only the DAG files' imports see a 3.0.0 Task SDK.
AS_AIRFLOW_3_0 = """
import airflow.dag_processing.dagbag  # Airflow's own modules first: they use those names themselves
import airflow.providers.cncf.kubernetes.operators.pod  # (this provider release needs a newer SDK)
from airflow.sdk import BaseSensorOperator  # what .expand() imports lazily
import airflow.exceptions, airflow.sdk, airflow.sdk.exceptions
import airflow.operators.python as operators_python  # a module Airflow makes up: not an attribute

def without(module, *names):
    original = module.__dict__.get("__getattr__")

    def __getattr__(name):
        if name in names or original is None:
            raise AttributeError(name)
        return original(name)

    for name in names:
        module.__dict__.pop(name, None)
    module.__getattr__ = __getattr__

fail = airflow.sdk.exceptions.AirflowFailException
without(airflow.sdk.exceptions, "AirflowFailException")
airflow.exceptions.AirflowFailException = fail
without(airflow.sdk, "CronTriggerTimetable", "conf")
without(operators_python, "get_current_context")
"""

FILL_DAGBAG = """
import json
from airflow.dag_processing.dagbag import DagBag

found = {}
for folder in sys.argv[1:]:
    bag = DagBag(dag_folder=folder)
    retries = {d: {t: task.retries for t, task in dag.task_dict.items()} for d, dag in bag.dags.items()}
    found[folder] = {"errors": bag.import_errors, "retries": retries}
leaked = sorted(m for m in sys.modules if m.split(".")[0] in ("flowc", "tests"))
print(json.dumps({"folders": found, "leaked": leaked}))
"""


def expected_retries(workdir: Path) -> dict[str, dict[str, int]]:
    """DAG id -> task id -> retries: a step's @retry(times=...) plus @catch's fallback attempt
    (flowc.attempts.engine_retries), else 0 (helper tasks too)."""
    expected = {}
    for flow in flow_files():
        ir = build_ir(str(flow))
        plan = plan_tasks(ir)
        retry = {s.name: engine_retries(s) for s in ir.steps}
        expected[dag_id(ir, golden_settings(workdir))] = {
            t.task_id: (retry[t.step] if t.kind == "step" else 0) for t in plan.tasks
        }
    return expected


@pytest.mark.parametrize("api", ["installed", "airflow-3.0"])
def test_golden_dag_files_import_with_only_airflow(
    api: str, airflow_home: AirflowHome, tmp_path: Path
) -> None:
    """They import, and with the retries of @retry only: a deployment may set
    ``[core] default_task_retries``, yet a step without @retry runs once, as with ``flowc run``."""
    prelude = WITHOUT_FLOWC + (AS_AIRFLOW_3_0 if api == "airflow-3.0" else "")
    folders = [GOLDEN_DIR / operator for operator in OPERATORS]
    result = subprocess.run(
        [sys.executable, "-I", "-c", prelude + FILL_DAGBAG, *map(str, folders)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore", "AIRFLOW__CORE__DEFAULT_TASK_RETRIES": "3"},
        cwd=airflow_home.path,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["leaked"] == []
    for folder in folders:
        assert found["folders"][str(folder)]["errors"] == {}
        assert found["folders"][str(folder)]["retries"] == expected_retries(tmp_path)
