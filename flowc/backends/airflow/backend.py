"""The Airflow back end: ``compile`` renders one DAG file; ``deploy`` and ``trigger`` act on Airflow."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from flowc.backends.airflow.capabilities import CAPABILITIES, airflow_refusals
from flowc.backends.airflow.lowering import OPERATORS, operator_of, template_context
from flowc.backends.airflow.names import dag_id
from flowc.backends.airflow.render import render_dag
from flowc.backends.base import Capabilities, CompiledFile, EngineRun, refusals
from flowc.backends.options import CompileOptions, EngineOptions, TriggerOptions
from flowc.config import Settings
from flowc.diagnostics import CompileError, Diagnostic, refuse_step
from flowc.ir import FlowIR

if TYPE_CHECKING:
    from flowc.backends.deploy import DeployHooks

__all__ = ["AirflowBackend", "compile_dag"]


def compile_dag(ir: FlowIR, settings: Settings, options: CompileOptions | None = None) -> CompiledFile:
    """The DAG file of ``ir``: ``<dag id>.py`` (default options: operator from the settings, tasks
    from the flow file).

    Raises:
        CompileError: with every construct Airflow cannot express (step, line and reason).
    """
    from flowc.secret_sources import with_default_provider

    ir = with_default_provider(ir, settings.get("secrets.default_provider"))
    options = options or CompileOptions()
    operator = operator_of(settings, options)
    problems: list[Diagnostic] = [*refusals(ir, CAPABILITIES), *airflow_refusals(ir, operator)]
    if operator not in OPERATORS:
        problems.append(
            refuse_step(
                ir,
                None,
                "unknown-airflow-operator",
                f"unknown Airflow operator {operator!r}",
                f"choose one of {', '.join(OPERATORS)}",
            )
        )
    if problems:
        raise CompileError(problems)
    text = render_dag(template_context(ir, settings, options))
    return CompiledFile(name=f"{dag_id(ir, settings)}.py", text=text)


class AirflowBackend:
    """``flowc compile|deploy|trigger --target airflow``."""

    name = "airflow"
    capabilities: Capabilities = CAPABILITIES

    def add_arguments(self, command: str, parser: argparse.ArgumentParser) -> None:
        if command in ("compile", "deploy"):
            parser.add_argument(
                "--operator",
                choices=OPERATORS,
                help="how tasks run: local (a process on the Airflow worker) or kubernetes "
                "(KubernetesPodOperator); default: setting airflow.operator",
            )
        if command in ("deploy", "undeploy"):
            parser.add_argument(
                "--dags-folder", help="where to write the DAG file: a path or s3://bucket/prefix"
            )
        if command in ("trigger", "runs", "terminate"):
            parser.add_argument("--api-url", help="Airflow REST API base URL (setting airflow.api_url)")
            parser.add_argument("--dag-id", help="the DAG id when FLOW is a name and the DAG id differs")
        if command == "trigger":
            parser.add_argument("--wait", action="store_true", help="wait for the run to finish")

    def compile(self, ir: FlowIR, settings: Settings, options: CompileOptions) -> list[CompiledFile]:
        return [compile_dag(ir, settings, options)]

    @property
    def deployment(self) -> DeployHooks:
        from flowc.backends.airflow.deploy import AirflowDeployment

        return AirflowDeployment()

    def trigger(self, flow_name: str, settings: Settings, options: TriggerOptions) -> int:
        from flowc.backends.airflow.trigger import trigger

        return trigger(flow_name, settings, options)

    def engine_runs(self, flow_name: str, settings: Settings, options: EngineOptions) -> list[EngineRun]:
        from flowc.backends.airflow.operate import engine_runs

        return engine_runs(flow_name, settings, options)

    def terminate(self, flow_name: str, run_id: str, settings: Settings, options: EngineOptions) -> str:
        from flowc.backends.airflow.operate import terminate

        return terminate(flow_name, run_id, settings, options)
