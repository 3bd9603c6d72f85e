"""What ``flowc run`` and ``flowc resume`` share on the command line: options, IR loading, launching."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from flowc.ir import FlowIR

#: Seconds past a step's @timeout after which the runtime kills the task itself. The task runner
#: enforces @timeout first (SIGALRM, then its own watchdog 5 s later); this catches a step stuck
#: where neither can act (a C call holding the GIL). ``FLOWC_TIMEOUT_GRACE`` overrides it.
DEFAULT_TIMEOUT_GRACE = 10.0

__all__ = [
    "DEFAULT_TIMEOUT_GRACE",
    "add_common_options",
    "datastore_url",
    "find_flow_path",
    "load_ir_for_parser",
    "options_from_args",
]


def find_flow_path(argv: Sequence[str]) -> str | None:
    """The flow file in a command line (``argv[0]`` is the command): the first ``*.py`` word."""
    for word in argv[1:]:
        if not word.startswith("-") and (word.endswith(".py") or os.path.isfile(word)):
            return word
    return None


def load_ir_for_parser(parser: argparse.ArgumentParser, argv: Sequence[str]) -> FlowIR | None:
    """Builds the IR of the flow named in ``argv`` (for its parameter options); errors wait for run()."""
    path = find_flow_path(argv)
    ir, error = None, None
    if path is not None and os.path.isfile(path):
        try:
            from flowc.frontend import build_ir

            ir = build_ir(path)
        except Exception as exc:  # CompileError and import problems alike: reported by run()
            error = exc
    parser.set_defaults(_flowc_ir=ir, _flowc_ir_error=error)
    return ir


def add_common_options(parser: argparse.ArgumentParser) -> None:
    from flowc.runtime.executor import EXECUTORS

    parser.add_argument("flow", help="the flow file (FLOW.py)")
    parser.add_argument(
        "--max-workers",
        type=int,
        default=os.cpu_count() or 1,
        metavar="N",
        help="tasks run at the same time (default: the number of CPUs)",
    )
    parser.add_argument(
        "--tag", action="append", default=[], metavar="T", help="a tag of the run (repeatable)"
    )
    parser.add_argument(
        "--run-id-file", metavar="F", help="write the run id to this file when the run starts"
    )
    parser.add_argument(
        "--datastore", metavar="URL", help="datastore root (default: FLOWC_DATASTORE or config)"
    )
    parser.add_argument(
        "--max-num-splits",
        type=int,
        metavar="N",
        help="accepted for Metaflow compatibility; flowc puts no cap on foreach width",
    )
    parser.add_argument(
        "--executor",
        choices=EXECUTORS,
        default=None,
        help="fork (default: the runtime forks per task) or subprocess (python -m flowc.task_runner); "
        "FLOWC_EXECUTOR sets the default",
    )


def datastore_url(args: argparse.Namespace) -> str:
    from flowc.config import load_settings

    url = str(load_settings({"datastore": args.datastore})["datastore"])
    return url if url.startswith("s3://") else os.path.abspath(url)


def checked_ir(args: argparse.Namespace, command: str) -> FlowIR | None:
    """The IR built for the parser, or None after printing why the flow cannot run."""
    error = getattr(args, "_flowc_ir_error", None)
    ir = getattr(args, "_flowc_ir", None)
    if not os.path.isfile(args.flow):
        print(f"flowc {command}: no such flow file: {args.flow}", file=sys.stderr)
        return None
    if error is not None:
        diagnostics = getattr(error, "diagnostics", None)
        if diagnostics:
            print(f"flowc {command}: {args.flow} cannot run:", file=sys.stderr)
            for diagnostic in diagnostics:
                print(f"  {diagnostic}", file=sys.stderr)
        else:
            print(f"flowc {command}: {args.flow} cannot run: {error}", file=sys.stderr)
        return None
    if ir is None:
        print(f"flowc {command}: could not read {args.flow}", file=sys.stderr)
    return ir


def options_from_args(args: argparse.Namespace, parameters: dict[str, Any], datastore: str) -> Any:
    from flowc.runtime.launch import LaunchOptions, default_executor_name

    return LaunchOptions(
        flow_path=args.flow,
        datastore=datastore,
        max_workers=args.max_workers,
        tags=tuple(args.tag),
        run_id_file=args.run_id_file,
        executor=args.executor or default_executor_name(),
        parameters=parameters,
        timeout_grace=float(os.environ.get("FLOWC_TIMEOUT_GRACE") or DEFAULT_TIMEOUT_GRACE),
    )
