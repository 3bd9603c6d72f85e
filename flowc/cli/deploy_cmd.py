"""``flowc deploy FLOW.py --target T [--dry-run]``: package upload and create-or-update, unattended.

The sequence, its messages and exit codes are :func:`flowc.backends.deploy.deploy`'s, the same on
every target.
"""

from __future__ import annotations

import argparse

from flowc.cli.target_options import add_target_arguments, backend_and_settings, flow_ir

HELP = "upload the code package and create or update the flow on an orchestrator"


def add_arguments(parser: argparse.ArgumentParser, argv: list[str]) -> None:
    parser.add_argument("flow", help="the flow file")
    parser.add_argument("--dry-run", action="store_true", help="print what would change; change nothing")
    add_target_arguments("deploy", parser, argv)


def run(args: argparse.Namespace) -> int:
    from flowc.backends.deploy import deploy
    from flowc.backends.options import deploy_options

    backend, settings = backend_and_settings(args)
    ir, code = flow_ir(args, "deploy")
    if ir is None:
        return code
    return deploy(backend, ir, settings, deploy_options(vars(args)))
