"""Golden IR JSON for every example and conformance flow (``FLOWC_REGENERATE=1`` rewrites them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowc.frontend import analyse, build_ir
from flowc.ir import FlowIR
from tests.helpers.golden import assert_golden

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "ir"
FLOWS = sorted((ROOT / "examples").glob("*.py")) + sorted(
    (ROOT / "tests" / "conformance" / "flows").glob("*.py")
)


def test_flow_names_do_not_collide() -> None:
    stems = [p.stem for p in FLOWS]
    assert len(stems) == len(set(stems))
    assert FLOWS, "no flows found"


@pytest.mark.parametrize("path", FLOWS, ids=lambda p: p.stem)
def test_ir_matches_golden(path: Path) -> None:
    ir, diagnostics = analyse(path)
    assert ir is not None, "\n".join(d.format() for d in diagnostics)
    assert not diagnostics, "\n".join(d.format() for d in diagnostics)
    text = ir.to_json()
    assert_golden(GOLDEN / f"{path.stem}.json", text)


@pytest.mark.parametrize("path", FLOWS, ids=lambda p: p.stem)
def test_ir_json_round_trip_is_identity(path: Path) -> None:
    ir = build_ir(path, strict=True)
    again = FlowIR.from_json(ir.to_json())
    assert again == ir
    assert again.to_json() == ir.to_json()
