"""The benchmark's generated flows compile (how the front end's time grows with flow size is measured
by bench/frontend/run.py, not asserted here)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from flowc.frontend import build_ir

_GENERATOR = Path(__file__).resolve().parents[2] / "bench" / "frontend" / "generate.py"
_spec = importlib.util.spec_from_file_location("flowc_bench_frontend_generate", _GENERATOR)
assert _spec is not None and _spec.loader is not None
_generate = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_generate)
flow_source = _generate.flow_source


@pytest.mark.parametrize(("steps", "splits"), [(37, 0), (200, 2), (1000, 3)])
def test_generated_flows_compile(steps: int, splits: int, tmp_path: Path) -> None:
    path = tmp_path / "big_flow.py"
    path.write_text(flow_source(steps, "flowc", splits), encoding="utf-8")
    ir = build_ir(path, strict=True)
    assert len(ir.steps) == steps
    assert sum(1 for s in ir.steps if s.kind == "split") == splits
    assert all(s.matching_join for s in ir.steps if s.kind in ("split", "foreach"))
