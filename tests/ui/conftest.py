"""Fixture datastores for the UI tests, each made once per session by the real runtimes.

* ``ui_datastore``: ``flowc run`` of tests/ui/flows/ui_flow.py twice (one success, one failure)
  plus a card written through ``flowc.cards.store`` (the card storage contract) on one task.
* ``engines_datastore``: the same local runs, plus one run of the same flow on each harness
  (Argo's executor, Step Functions on moto, Airflow's ``dag.test()``), all in one local datastore
  (the Step Functions run is written to S3 on moto, then copied key by key).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

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
    write_card(str(root), found.runs["local"], "join", "0")
    return found
