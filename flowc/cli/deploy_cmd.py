"""``flowc deploy FLOW.py --target T [--dry-run]``: package upload and create-or-update, unattended."""

from __future__ import annotations

import argparse
import sys

from flowc.cli.target_options import add_target_arguments, backend_and_settings, ir_with_decorators
from flowc.frontend.diagnostics import CompileError

HELP = "upload the code package and create or update the flow on an orchestrator"


def add_arguments(parser: argparse.ArgumentParser, argv: list[str]) -> None:
    parser.add_argument("flow", help="the flow file")
    parser.add_argument("--dry-run", action="store_true", help="print what would change; change nothing")
    add_target_arguments("deploy", parser, argv)


def run(args: argparse.Namespace) -> int:
    from flowc.frontend import build_ir
    from flowc.frontend.configs import inputs_from_args

    backend, settings, options = backend_and_settings(args)
    try:
        ir = build_ir(args.flow, configs=inputs_from_args(args))
    except CompileError as exc:
        print(exc, file=sys.stderr)
        return 1
    ir = ir_with_decorators(args, ir, "deploy")
    if ir is None:
        return 2
    return backend.deploy(ir, settings, options)
