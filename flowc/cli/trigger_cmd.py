"""``flowc trigger FLOW --target T [--PARAM VALUE ...]``: start a run of a deployed flow."""

from __future__ import annotations

import argparse
import os
import sys

from flowc.cli.target_options import add_target_arguments, backend_and_settings
from flowc.parameter_values import ParameterError, read_params_file, trigger_values

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
    parser.add_argument(
        "--params-file",
        metavar="FILE",
        help="a JSON object of parameter values, for values too large for a command line "
        "(--NAME VALUE given too wins)",
    )
    add_target_arguments("trigger", parser, argv)
    _add_parameter_options(parser, argv)


def _add_parameter_options(parser: argparse.ArgumentParser, argv: list[str]) -> None:
    """Accepts ``--NAME VALUE`` (as ``flowc run`` does) for every option the parser does not know.

    The flow may be a deployed name rather than a file, so its parameters cannot be read here; the
    back end checks names and types against the deployed flow.
    """
    # Scanned, not parsed: parsing here would refuse a command line still missing FLOW or --target
    # (or asking for --help) before argparse can say so itself.
    known = set(parser._option_string_actions)
    for token in argv[1:]:
        option = token.split("=", 1)[0]
        if option.startswith("--") and len(option) > 2 and option not in known:
            name = option[2:]
            known.add(option)
            parser.add_argument(
                f"--{name}",
                dest=f"{_PARAMETER_PREFIX}{name}",
                action="append",
                metavar="VALUE",
                help=argparse.SUPPRESS,
            )


_PARAMETER_PREFIX = "parameter:"


def run(args: argparse.Namespace) -> int:
    from flowc.backends.options import trigger_options

    backend, settings = backend_and_settings(args)
    options = vars(args)
    pairs = [tuple(pair) for pair in options.get("param") or []]
    if options.get("params_file"):
        try:
            from_file = read_params_file(options["params_file"])
        except ParameterError as exc:
            print(f"flowc trigger: {exc}", file=sys.stderr)
            return 2
        given = {name for name, _ in pairs} | {
            key[len(_PARAMETER_PREFIX) :]
            for key, values in options.items()
            if key.startswith(_PARAMETER_PREFIX) and values
        }
        pairs = [(name, value) for name, value in from_file.items() if name not in given] + pairs
    for key, values in sorted(options.items()):
        if key.startswith(_PARAMETER_PREFIX) and values:
            pairs.extend((key[len(_PARAMETER_PREFIX) :], value) for value in values)
    if args.flow.endswith(".py") and os.path.isfile(args.flow):
        # The flow file is here: check the values once, for every target, before any run starts.
        from flowc.diagnostics import CompileError
        from flowc.frontend import build_ir

        try:
            pairs = list(trigger_values(build_ir(args.flow).parameters, dict(pairs)).items())
        except CompileError as exc:
            print(exc, file=sys.stderr)
            return 2
        except ParameterError as exc:
            print(f"flowc trigger: {exc}", file=sys.stderr)
            return 2
    return backend.trigger(args.flow, settings, trigger_options(options, pairs))
