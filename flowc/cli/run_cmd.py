"""``flowc run FLOW.py [--PARAM VALUE ...]``: run a flow locally (also ``python FLOW.py run``)."""

from __future__ import annotations

import argparse
import sys

from flowc.runtime.cli_common import (
    add_common_options,
    checked_ir,
    datastore_url,
    load_ir_for_parser,
    options_from_args,
    with_local_secrets,
)

HELP = "run a flow locally: parallel tasks, retries, timeouts, live progress"


def add_arguments(parser: argparse.ArgumentParser, argv: list[str]) -> None:
    from flowc.cli.target_options import add_with_argument

    add_common_options(parser)
    add_with_argument(parser)
    parser.add_argument(
        "--params-file",
        metavar="FILE",
        help="a JSON object of parameter values, for values too large for a command line "
        "(--NAME VALUE given too wins)",
    )
    ir = load_ir_for_parser(parser, argv)
    if ir is not None:
        from flowc.runtime.parameter_options import add_parameter_options

        add_parameter_options(parser, ir)


def run(args: argparse.Namespace) -> int:
    from flowc.cli.target_options import ir_with_decorators
    from flowc.datastore.storage import StorageError, open_storage
    from flowc.runtime.launch import LaunchError, exit_code, start_run
    from flowc.runtime.parameter_options import ParameterError, collect_parameters, include_file_modes

    ir = checked_ir(args, "run")
    if ir is None:
        return 2
    ir = ir_with_decorators(args, ir, "run")
    if ir is None:
        return 2
    ir = with_local_secrets(ir, args, "run")
    if ir is None:
        return 2
    datastore = datastore_url(args)
    try:
        modes = include_file_modes(ir, args.flow)
    except Exception as exc:  # the flow module raised on import
        print(f"flowc run: importing {args.flow} raised {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    try:
        parameters = collect_parameters(ir, args, open_storage(datastore), modes)
    except ParameterError as exc:
        print(f"flowc run: {exc}", file=sys.stderr)
        return 2
    except StorageError as exc:
        print(f"flowc run: datastore {datastore}: {exc}", file=sys.stderr)
        return 1
    try:
        _, outcome = start_run(ir, options_from_args(args, parameters, datastore, ir))
    except (LaunchError, StorageError) as exc:
        print(f"flowc run: {exc}", file=sys.stderr)
        return 1
    return exit_code(outcome)
