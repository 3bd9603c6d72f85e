"""AWS Step Functions target: Amazon States Language JSON whose tasks are AWS Batch jobs.

``compile`` lowers the IR to one state machine definition (``<Flow>.asl.json``); ``deploy`` uploads
the code package, registers the Batch job definition(s), creates or updates the state machine and
the EventBridge Scheduler schedule; ``trigger`` starts an execution. See ``docs/targets.md#sfn``.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from flowc.backends.base import CompiledFile, EngineRun
from flowc.backends.options import CompileOptions, EngineOptions, TriggerOptions
from flowc.backends.sfn.capabilities import CAPABILITIES
from flowc.config import Settings
from flowc.ir import FlowIR

if TYPE_CHECKING:
    from flowc.backends.deploy import DeployHooks

__all__ = ["BACKEND", "CAPABILITIES", "SfnBackend"]


class SfnBackend:
    """The ``sfn`` target (see :class:`flowc.backends.base.Backend`)."""

    name = "sfn"
    capabilities = CAPABILITIES

    def add_arguments(self, command: str, parser: argparse.ArgumentParser) -> None:
        if command == "trigger":
            parser.add_argument("--name", help="execution name (default: generated)")
            parser.add_argument("--wait", action="store_true", help="wait for the execution to end")

    def compile(self, ir: FlowIR, settings: Settings, options: CompileOptions) -> list[CompiledFile]:
        from flowc.backends.sfn.definition import build_definition, definition_text

        text = definition_text(build_definition(ir, settings, options))
        files = [CompiledFile(f"{ir.name}.asl.json", text)]
        if ir.triggers:
            import json

            from flowc.backends.sfn.events import planned_event_rule
            from flowc.backends.sfn.naming import deployment_name

            rule = planned_event_rule(ir, settings, deployment_name(ir, settings), settings.get("sfn.role"))
            files.append(
                CompiledFile(f"{ir.name}.eventbridge.json", json.dumps(rule, indent=2, sort_keys=True) + "\n")
            )
        return files

    @property
    def deployment(self) -> DeployHooks:
        from flowc.backends.sfn.deploy import SfnDeployment

        return SfnDeployment()

    def trigger(self, flow_name: str, settings: Settings, options: TriggerOptions) -> int:
        from flowc.backends.sfn.trigger import trigger

        return trigger(flow_name, settings, options)

    def engine_runs(self, flow_name: str, settings: Settings, options: EngineOptions) -> list[EngineRun]:
        from flowc.backends.sfn.operate import engine_runs

        return engine_runs(flow_name, settings, options)

    def terminate(self, flow_name: str, run_id: str, settings: Settings, options: EngineOptions) -> str:
        from flowc.backends.sfn.operate import terminate

        return terminate(flow_name, run_id, settings, options)


BACKEND = SfnBackend()
