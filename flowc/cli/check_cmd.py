"""``flowc check FLOW.py [--strict]``: every problem of a flow, at once; exit 0 clean, 1 with errors."""

from __future__ import annotations

import argparse
import sys

HELP = "check a flow without running it (all problems at once; exit 1 on errors)"


def add_arguments(parser: argparse.ArgumentParser, argv: list[str]) -> None:
    parser.add_argument("flow", help="the flow file")
    parser.add_argument("--strict", action="store_true", help="treat warnings as errors")
    from flowc.frontend.configs import add_config_arguments

    add_config_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from flowc.frontend import analyse
    from flowc.frontend.configs import inputs_from_args

    ir, diagnostics = analyse(args.flow, inputs_from_args(args))
    for diagnostic in diagnostics:
        print(diagnostic.format(), file=sys.stderr)
    errors = [d for d in diagnostics if d.severity == "error"]
    warnings = [d for d in diagnostics if d.severity != "error"]
    if errors or (args.strict and warnings):
        counted = len(errors) + (len(warnings) if args.strict else 0)
        print(f"flowc: {args.flow}: {counted} problem(s)", file=sys.stderr)
        return 1
    assert ir is not None
    suffix = f", {len(warnings)} warning(s)" if warnings else ""
    print(f"{ir.name}: {len(ir.steps)} steps, {len(ir.parameters)} parameters: ok{suffix}")
    return 0
