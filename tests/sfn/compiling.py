"""Compiling the flows the Step Functions tests use, with fixed settings (no user or machine state)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flowc.backends.options import CompileOptions
from flowc.backends.sfn import BACKEND
from flowc.config import Settings, load_settings
from flowc.frontend import build_ir

__all__ = ["GOLDEN_DIR", "SFN_FLOWS", "compile_flow", "flow_files", "golden_settings", "task_states"]

ROOT = Path(__file__).resolve().parents[2]
GOLDEN_DIR = ROOT / "tests" / "golden" / "sfn"
SFN_FLOWS = Path(__file__).parent / "flows"
CONFORMANCE_FLOWS = ROOT / "tests" / "conformance" / "flows"


def flow_files() -> list[Path]:
    """Every conformance flow plus this folder's feature flows."""
    return sorted(CONFORMANCE_FLOWS.glob("*_flow.py")) + sorted(SFN_FLOWS.glob("*_flow.py"))


def golden_settings(**overrides: Any) -> Settings:
    values = {"datastore": "s3://flowc-golden/datastore", "project.branch": "golden", **overrides}
    return load_settings(values, start=ROOT / "tests" / "sfn", environ={})


def compile_flow(path: Path, settings: Settings | None = None, **options: Any) -> str:
    ir = build_ir(path)
    return BACKEND.compile(ir, settings or golden_settings(), CompileOptions(**options))[0].text


def task_states(definition: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every state of a definition, nested ones included, as ``(name, state)``."""
    found = []

    def visit(states: dict[str, Any]) -> None:
        for name, state in states.items():
            found.append((name, state))
            for branch in state.get("Branches", []):
                visit(branch["States"])
            if "ItemProcessor" in state:
                visit(state["ItemProcessor"]["States"])

    visit(definition["States"])
    return found


def loads(text: str) -> dict[str, Any]:
    return json.loads(text)
