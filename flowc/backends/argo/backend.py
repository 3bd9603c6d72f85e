"""The ``BACKEND`` object: argument wiring for the generic compile/deploy/trigger commands."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from flowc.backends.argo.capabilities import CAPABILITIES
from flowc.backends.base import Capabilities, CompiledFile, EngineRun, refusals
from flowc.backends.options import CompileOptions, EngineOptions, TriggerOptions
from flowc.config import Settings
from flowc.ir import FlowIR

if TYPE_CHECKING:
    from flowc.backends.deploy import DeployHooks

__all__ = ["BACKEND", "ArgoBackend", "compile_flow"]


def compile_flow(ir: FlowIR, settings: Settings, options: CompileOptions) -> list[CompiledFile]:
    """The YAML documents of ``ir`` (raises CompileError listing every refusal)."""
    from flowc.backends.argo.checks import argo_refusals
    from flowc.backends.argo.document import build_documents, dump_yaml
    from flowc.backends.argo.lint import WORKFLOW_KINDS, semantic_problems
    from flowc.backends.generated import check_document
    from flowc.diagnostics import CompileError
    from flowc.secret_sources import with_default_provider

    ir = with_default_provider(ir, settings.get("secrets.default_provider"))
    namespace = options.namespace or settings["kubernetes.namespace"]
    problems = [*refusals(ir, CAPABILITIES), *argo_refusals(ir, namespace)]
    if problems:
        raise CompileError(problems)
    files = []
    for name, document in build_documents(ir, settings, options):
        # Argo's own lint (argo lint's semantics) before the file exists; the strict JSON schema
        # needs jsonschema and costs more than the compile itself, so it stays in the tests.
        if document.get("kind") in WORKFLOW_KINDS:
            check_document(name, semantic_problems(document))
        files.append(CompiledFile(name, dump_yaml(document)))
    return files


class ArgoBackend:
    """Argo Workflows: WorkflowTemplate (+ CronWorkflow), or a plain Workflow with ``--kind workflow``."""

    name = "argo"
    capabilities: Capabilities = CAPABILITIES

    def add_arguments(self, command: str, parser: argparse.ArgumentParser) -> None:
        if command == "compile":
            parser.add_argument(
                "--kind",
                choices=("template", "workflow"),
                default="template",
                help="WorkflowTemplate (+ CronWorkflow with @schedule), or a plain Workflow",
            )
        parser.add_argument("--namespace", help="Kubernetes namespace (default: kubernetes.namespace)")
        if command == "trigger":
            parser.add_argument("--wait", action="store_true", help="wait for the run to finish")

    def compile(self, ir: FlowIR, settings: Settings, options: CompileOptions) -> list[CompiledFile]:
        return compile_flow(ir, settings, options)

    @property
    def deployment(self) -> DeployHooks:
        from flowc.backends.argo.deploy import ArgoDeployment

        return ArgoDeployment()

    def trigger(self, flow_name: str, settings: Settings, options: TriggerOptions) -> int:
        from flowc.backends.argo.deploy import trigger

        return trigger(flow_name, settings, options)

    def engine_runs(self, flow_name: str, settings: Settings, options: EngineOptions) -> list[EngineRun]:
        from flowc.backends.argo.operate import engine_runs

        return engine_runs(flow_name, settings, options)

    def terminate(self, flow_name: str, run_id: str, settings: Settings, options: EngineOptions) -> str:
        from flowc.backends.argo.operate import terminate

        return terminate(flow_name, run_id, settings, options)


BACKEND = ArgoBackend()
