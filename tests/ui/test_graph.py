"""The run graph: drawn from the IR without running the flow's code in the server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from flowc.frontend import build_ir
from flowc.frontend.values import module_imports_refused
from flowc.ui.graph import GraphStep, render_svg, step_order

pytest.importorskip("starlette")

FLOWS = Path(__file__).parent / "flows"


def test_front_end_refuses_imports_when_asked() -> None:
    with module_imports_refused() as refused, pytest.raises(Exception, match="not allowed"):
        build_ir(str(FLOWS / "computed_flow.py"))
    assert refused == [str(FLOWS / "computed_flow.py")]
    with module_imports_refused() as refused:
        assert build_ir(str(FLOWS / "ui_flow.py")).step_names == ("start", "square", "join", "end")
    assert refused == []


def test_graph_of_a_flow_needing_its_module_comes_from_the_child(tmp_path: Path, monkeypatch) -> None:
    from starlette.testclient import TestClient

    from flowc.ui.app import create_app

    markers = tmp_path / "markers"
    markers.mkdir()
    datastore = tmp_path / "ds"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "flowc",
            "run",
            str(FLOWS / "computed_flow.py"),
            "--datastore",
            str(datastore),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    monkeypatch.setenv("FLOWC_TEST_MARKER_DIR", str(markers))
    client = TestClient(create_app(str(datastore)))
    run_id = client.get("/api/flows/ComputedFlow/runs").json()["runs"][0]["id"]
    run = client.get(f"/api/flows/ComputedFlow/runs/{run_id}").json()
    assert run["graph_error"] is None
    assert [s["name"] for s in run["steps"]] == ["start", "end"]
    imported_by = os.listdir(markers)
    assert imported_by and f"imported-{os.getpid()}" not in imported_by


def test_layout_puts_every_forward_edge_downwards_and_draws_loops() -> None:
    steps = [
        GraphStep("start", ("a", "b"), (), "split"),
        GraphStep("a", ("join",)),
        GraphStep("b", ("c",)),
        GraphStep("c", ("join",)),
        GraphStep("join", ("check",)),
        GraphStep("check", ("start", "end"), ("start",), "switch"),
        GraphStep("end"),
    ]
    assert step_order(steps) == ["start", "a", "b", "c", "join", "check", "end"]
    svg = render_svg(steps, {"a": {"status": "failed", "counts": {"failed": 1}}})
    assert svg.count('class="edge"') == 7 and svg.count('class="edge loop"') == 1
    assert 'class="step failed" data-step="a"' in svg and "0/1 task, 1 failed" in svg
    assert 'class="step not-started" data-step="end"' in svg


def test_names_are_escaped_in_the_svg() -> None:
    svg = render_svg([GraphStep("<script>")], {})
    assert "<script>" not in svg and "&lt;script&gt;" in svg
