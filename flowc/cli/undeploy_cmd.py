"""``flowc undeploy FLOW.py --target T [--dry-run]``: remove everything ``flowc deploy`` made.

Argo: the WorkflowTemplate and CronWorkflow; Step Functions: the schedule, the state machine and
the Batch job definitions; Airflow: the DAG file. The code package and the runs stay in the
datastore. The sequence, its messages and exit codes are :func:`flowc.backends.deploy.undeploy`'s.
"""

from __future__ import annotations

import argparse

from flowc.cli.target_options import add_target_arguments, backend_and_settings, flow_ir

HELP = "remove what flowc deploy created for a flow on an orchestrator"


def add_arguments(parser: argparse.ArgumentParser, argv: list[str]) -> None:
    parser.add_argument("flow", help="the flow file")
    parser.add_argument("--dry-run", action="store_true", help="print what would be removed; remove nothing")
    add_target_arguments("undeploy", parser, argv)


def run(args: argparse.Namespace) -> int:
    from flowc.backends.deploy import undeploy
    from flowc.backends.options import deploy_options

    backend, settings = backend_and_settings(args)
    ir, code = flow_ir(args, "undeploy")
    if ir is None:
        return code
    return undeploy(backend, ir, settings, deploy_options(vars(args)))
