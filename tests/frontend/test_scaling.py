"""The benchmark's generated flows compile, and the front end's time grows linearly with flow size."""

from __future__ import annotations

import importlib.util
import time
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


def _fastest(path: Path) -> float:
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        build_ir(path)
        runs.append(time.perf_counter() - started)
    return min(runs)


def test_time_grows_linearly_with_steps(tmp_path: Path) -> None:
    small, big = tmp_path / "small_flow.py", tmp_path / "big_flow.py"
    small.write_text(flow_source(250, "flowc", 1), encoding="utf-8")
    big.write_text(flow_source(1000, "flowc", 1), encoding="utf-8")
    ratio = _fastest(big) / _fastest(small)
    # 4x the steps: about 4x the time; a quadratic pass would show as 16x.
    assert ratio < 9, ratio
