"""Fixture datastores for the UI tests, each made once per session by the real runtimes.

* ``ui_datastore``: ``flowc run`` of tests/ui/flows/ui_flow.py twice (one success, one failure;
  its ``join`` step renders two cards) plus a hostile card written through ``flowc.cards.store``
  (the card storage contract) on a task of ``square``.
* ``engines_datastore``: the same local runs, plus one run of the same flow on each harness
  (Argo's executor, Step Functions on moto, Airflow's ``dag.test()``), all in one local datastore
  (the Step Functions run is written to S3 on moto, then copied key by key).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from flowc.backends.options import CompileOptions

FLOW = Path(__file__).parent / "flows" / "ui_flow.py"
FLOW_NAME = "UiFlow"

#: A card that tries to reach the page it is shown in: sandboxed, it must fail.
CARD_HTML = """<!doctype html><html><head><meta charset="utf-8"><title>card</title></head><body>
<h1 id="card-title">Squares</h1>
<table id="card-table"><tr><th>n</th><th>n²</th></tr><tr><td>1</td><td>1</td></tr>
<tr><td>2</td><td>4</td></tr><tr><td>3</td><td>9</td></tr></table>
<p id="escape"></p>
<script>
let seen;
try { seen = "reached " + window.parent.document.title; } catch (e) { seen = "blocked"; }
try { window.parent.document.body.dataset.hackedByCard = "yes"; } catch (e) {}
document.getElementById("escape").textContent = seen;
</script></body></html>"""


@dataclass
class UiRuns:
    """A datastore and the ids of what it holds."""

    root: str
    runs: dict[str, str] = field(default_factory=dict)  # label -> run id
    marker_dir: str = ""


def flowc_run(datastore: str, *args: str) -> str:
    """``flowc run`` of the UI flow (as a user runs it); returns the run id."""
    id_file = Path(datastore).parent / f"run-id-{len(os.listdir(Path(datastore).parent))}"
    command = [sys.executable, "-m", "flowc", "run", str(FLOW), "--datastore", datastore]
    result = subprocess.run(
        [*command, "--run-id-file", str(id_file), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if not id_file.exists():
        raise AssertionError(f"flowc run wrote no run id:\n{result.stdout}\n{result.stderr}")
    return id_file.read_text().strip()


def write_card(datastore: str, run_id: str, step: str, task_id: str) -> None:
    """A card for one task through the card storage contract (what the task runner writes)."""
    from flowc.cards.store import CardEntry, CardRef, write_card_file, write_index
    from flowc.datastore.storage import open_storage

    storage = open_storage(datastore)
    ref = CardRef(FLOW_NAME, run_id, step, task_id, 0)
    write_card_file(storage, ref, "card-0-blank.html", CARD_HTML)
    write_index(storage, ref, [CardEntry("blank", "squares", "card-0-blank.html")])


@pytest.fixture(scope="session")
def ui_datastore(tmp_path_factory: pytest.TempPathFactory) -> UiRuns:
    root = tmp_path_factory.mktemp("ui-datastore") / "ds"
    marker = tmp_path_factory.mktemp("ui-markers")
    found = UiRuns(str(root), marker_dir=str(marker))
    found.runs["local"] = flowc_run(str(root), "--tag", "nightly")
    # One worker: square/1 fails before square/2 starts (the run then stops), so counts are exact.
    found.runs["failed"] = flowc_run(str(root), "--max-workers", "1", "--fail", "true")
    write_card(str(root), found.runs["local"], "square", "square-0")
    return found


def _copy_datastore(source: str, target: str) -> None:
    """Every object of ``source`` (an S3 datastore) into ``target`` (a local one), key by key."""
    from flowc.datastore.storage import open_storage

    src, dst = open_storage(source), open_storage(target)
    for key in src.list(""):
        dst.write(key, src.read(key))


@pytest.fixture(scope="session")
def engines_datastore(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, ui_datastore: UiRuns
) -> UiRuns:
    """The local runs plus one run of the flow on each engine harness, in one local datastore."""
    from flowc.config import load_settings
    from flowc.frontend import build_ir

    work = tmp_path_factory.mktemp("ui-engines")
    root = work / "ds"
    shutil.copytree(ui_datastore.root, root)
    found = UiRuns(str(root), dict(ui_datastore.runs), ui_datastore.marker_dir)
    ir = build_ir(str(FLOW))

    # Argo: the WorkflowTemplate executed by the project's Argo DAG interpreter.
    from tests.argo.harness import run_flow

    argo = run_flow(FLOW, work / "argo-pods", str(root), workflow_name="ui-argo")
    assert argo.result.phase == "Succeeded", argo.result.message
    found.runs["argo"] = argo.run_id

    # Step Functions on moto (Batch jobs run the task runner as local processes), datastore on S3.
    from flowc.backends.sfn import BACKEND
    from flowc.backends.sfn.trigger import execution_input
    from tests.sfn.engine import sfn_server

    with sfn_server(work / "sfn") as engine, pytest.MonkeyPatch.context() as patch:
        for name, value in engine.env.items():
            patch.setenv(name, value)
        engine.job_queue()
        s3_root = f"s3://{engine.new_bucket()}/datastore"
        settings = load_settings({"datastore": s3_root}, environ={})
        package_sha = engine.deploy_code(ir, settings, FLOW)
        definition = BACKEND.compile(ir, settings, CompileOptions(package_sha=package_sha))[0].text
        run_id, result = engine.run(definition, execution_input({}, s3_root))
        assert result["status"] == "SUCCEEDED", result
        _copy_datastore(s3_root, str(root))
        found.runs["sfn"] = run_id

    # Airflow 3 for real: the DAG file run by dag.test() in this process.
    from flowc.backends.airflow import compile_dag
    from flowc.backends.airflow.dag_params import coerce_parameters, run_conf
    from tests.airflow.engine import session_airflow_home

    home = session_airflow_home(request, tmp_path_factory)
    settings = load_settings({"datastore": str(root)}, start=work, environ={})
    dag_file = compile_dag(ir, settings, CompileOptions(operator="local"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FLOWC_SOURCE", str(FLOW))
        patch.setenv("FLOWC_DATASTORE", str(root))
        outcome = home.test(dag_file.name, dag_file.text, run_conf(coerce_parameters(ir, {}), str(root)))
    assert outcome.state == "success", outcome.task_states
    found.runs["airflow"] = outcome.flowc_run_id
    return found
