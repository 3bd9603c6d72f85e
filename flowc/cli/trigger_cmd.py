"""``flowc trigger FLOW --target T [--PARAM VALUE ...]``: start a run of a deployed flow."""

from __future__ import annotations

import argparse

from flowc.cli.target_options import add_target_arguments, backend_and_settings

HELP = "start a run of a deployed flow"


def add_arguments(parser: argparse.ArgumentParser, argv: list[str]) -> None:
    parser.add_argument("flow", help="the flow's name, or its file")
    parser.add_argument(
        "--param",
        action="append",
        nargs=2,
        metavar=("NAME", "VALUE"),
        default=[],
        help="a parameter value (repeatable); --NAME VALUE works too",
    )
    add_target_arguments("trigger", parser, argv)


def run(args: argparse.Namespace) -> int:
    backend, settings, options = backend_and_settings(args)
    return backend.trigger(args.flow, settings, options)
