"""What ``flowc run`` and ``flowc resume`` share on the command line: options, IR loading, launching."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from flowc.ids import argument, check_tag
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
    """Builds the IR of the flow named in ``argv`` (for its parameter options).

    A flow that does not build has no parameter options, so argparse would refuse its ``--PARAM
    VALUE`` words as "unrecognized" and hide the real problem: then the diagnostics are printed
    here and the command exits 2 at once (``--help`` still shows the command's own options).
    """
    path = find_flow_path(argv)
    ir, error = None, None
    if path is not None and os.path.isfile(path):
        try:
            from flowc.frontend import build_ir
            from flowc.frontend.configs import inputs_from_argv

            ir = build_ir(path, configs=inputs_from_argv(argv))
        except Exception as exc:  # CompileError and import problems alike
            error = exc
    if error is not None and path is not None and not {"-h", "--help"} & set(argv):
        _report_unrunnable(str(argv[0]) if argv else "run", path, error)
        parser.exit(2)
    if ir is not None and ir.configs:
        # Only a flow with configs takes them: a flow without may have a parameter `config`
        # (the front end reserves the names when it has configs).
        from flowc.frontend.configs import add_config_arguments

        add_config_arguments(parser)
    parser.set_defaults(_flowc_ir=ir, _flowc_ir_error=error)
    return ir


def with_local_secrets(ir: FlowIR, args: argparse.Namespace, command: str) -> FlowIR | None:
    """``ir`` with its bare ``@secrets`` sources given the configured default provider, or None after
    printing each source no local task could read (:func:`flowc.secret_sources.no_pod_refusals`)."""
    from flowc.config import load_settings
    from flowc.diagnostics import CompileError
    from flowc.secret_sources import default_provider, no_pod_refusals, with_default_provider

    if not any(step.secrets for step in ir.steps):
        return ir
    try:
        ir = with_default_provider(ir, default_provider(os.environ, load_settings()))
        problems = list(no_pod_refusals(ir, f"flowc {command}"))
        if problems:
            raise CompileError(problems)
    except CompileError as exc:
        _report_unrunnable(command, args.flow, exc)
        return None
    return ir


def _report_unrunnable(command: str, flow: str, error: BaseException) -> None:
    diagnostics = getattr(error, "diagnostics", None)
    if diagnostics:
        print(f"flowc {command}: {flow} cannot run:", file=sys.stderr)
        for diagnostic in diagnostics:
            print(f"  {diagnostic}", file=sys.stderr)
    else:
        print(f"flowc {command}: {flow} cannot run: {error}", file=sys.stderr)


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
        "--tag",
        action="append",
        default=[],
        type=argument(check_tag),
        metavar="T",
        help="a tag of the run (repeatable)",
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
        "--branch", help="@project branch the run's steps see as current.branch_name (test.<BRANCH>)"
    )
    parser.add_argument(
        "--production",
        action="store_true",
        default=None,
        help="@project production branch (current.is_production); default: the user's branch",
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
        _report_unrunnable(command, args.flow, error)
        return None
    if ir is None:
        print(f"flowc {command}: could not read {args.flow}", file=sys.stderr)
    return ir


def options_from_args(
    args: argparse.Namespace, parameters: dict[str, Any], datastore: str, ir: FlowIR
) -> Any:
    from flowc.config import load_settings
    from flowc.project_branches import task_environment
    from flowc.runtime.launch import LaunchOptions, default_executor_name

    # Metaflow's environment forms of --branch / --production (a flow may set them when imported).
    branch = args.branch or os.environ.get("METAFLOW_BRANCH") or None
    production = args.production
    if production is None and os.environ.get("METAFLOW_PRODUCTION", "").lower() in ("1", "true", "yes"):
        production = True
    settings = load_settings({"project.branch": branch, "project.production": production})
    try:
        env = task_environment(ir, settings)
    except ValueError as exc:  # a branch name Metaflow would refuse too
        print(f"flowc {getattr(args, 'command', None) or 'run'}: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    return LaunchOptions(
        env=env,
        flow_path=args.flow,
        datastore=datastore,
        max_workers=args.max_workers,
        tags=tuple(args.tag),
        run_id_file=args.run_id_file,
        executor=args.executor or default_executor_name(),
        parameters=parameters,
        timeout_grace=float(os.environ.get("FLOWC_TIMEOUT_GRACE") or DEFAULT_TIMEOUT_GRACE),
    )
