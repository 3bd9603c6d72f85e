"""``flowc status Flow/RUN_ID``: a run's status, who or what ended it, each step's task counts and
the failed tasks with their errors (:mod:`flowc.client.status`)."""

from __future__ import annotations

import argparse

from flowc.cli.pathspecs import add_flow_name_option, full_pathspec

HELP = "a run's status, its steps' task counts and its failed tasks (Flow/run_id)"


def add_arguments(parser: argparse.ArgumentParser, argv: list[str]) -> None:
    parser.add_argument("run", metavar="RUN", help="Flow/run_id (run_id under python FLOW.py)")
    parser.add_argument(
        "--datastore", metavar="URL", help="datastore root (default: FLOWC_DATASTORE or config)"
    )
    add_flow_name_option(parser)


def run(args: argparse.Namespace) -> int:
    import sys

    from flowc.client import MetaflowNotFound, Run
    from flowc.client.status import format_status, run_status
    from flowc.datastore.storage import StorageError

    pathspec = full_pathspec(args.run, args.flow_name, (2,))
    try:
        summary = run_status(Run(pathspec, datastore=args.datastore, _namespace_check=False))
    except (MetaflowNotFound, StorageError, ValueError) as exc:  # ValueError: a malformed pathspec
        print(f"flowc status: {exc}", file=sys.stderr)
        return 1
    print(format_status(summary))
    return 0
