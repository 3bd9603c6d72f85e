"""The flows whose compiled DAG files are kept as golden files, and how they are compiled."""

from __future__ import annotations

from pathlib import Path

from flowc.backends.airflow import compile_dag
from flowc.backends.base import CompiledFile
from flowc.backends.options import CompileOptions
from flowc.config import Settings, load_settings
from flowc.frontend import build_ir

__all__ = ["GOLDEN_DIR", "GOLDEN_PACKAGE", "OPERATORS", "flow_files", "golden_compile", "golden_settings"]

REPO = Path(__file__).resolve().parents[2]
GOLDEN_DIR = REPO / "tests" / "golden" / "airflow"
OPERATORS = ("local", "kubernetes")


def flow_files() -> list[Path]:
    """Every conformance flow, the trigger flows of the Argo tests, and this folder's flows."""
    flows = sorted((REPO / "tests" / "conformance" / "flows").glob("*.py"))
    triggered = sorted((REPO / "tests" / "argo" / "flows").glob("*_trigger_flow.py"))
    return [*flows, *triggered, *sorted((Path(__file__).parent / "flows").glob("*_flow.py"))]


def golden_settings(workdir: Path) -> Settings:
    """Defaults only (no user environment, no project file), and a fixed @project branch."""
    return load_settings({"project.branch": "golden"}, start=workdir, environ={})


#: Pod DAGs are compiled as deploy compiles them: with a code package (this stand-in hash), so
#: their pods start through the bootstrap. Local-process DAGs run on a worker that has flowc.
GOLDEN_PACKAGE = "c0de" * 16


def golden_compile(flow: Path, operator: str, workdir: Path) -> CompiledFile:
    package = GOLDEN_PACKAGE if operator == "kubernetes" else None
    ir, settings = build_ir(str(flow)), golden_settings(workdir)
    if operator == "local" and any(step.secrets for step in ir.steps):
        # No pod injects a bare name's Kubernetes Secret on a local worker: the env provider reads it.
        settings = settings.with_overrides({"secrets.default_provider": "env"})
    return compile_dag(ir, settings, CompileOptions(operator=operator, package_sha=package))
