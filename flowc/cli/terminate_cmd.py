"""``flowc terminate Flow/RUN_ID``: stop a run an engine is running, and record who ended it.

The target is the one the run id names (``argo-``, ``sfn-``, ``airflow-``; ``--target`` may say it
too). The engine is asked to stop the run (each target's ``operate`` module says how); then the
run's ``status.json`` says ``killed``, by whom and how, so ``flowc status``, ``flowc runs`` and the
client's ``Run.status`` show it. Exit codes: 0 terminated, 1 the engine failed or the run is not
running there, 2 bad input or configuration.
"""

from __future__ import annotations

import argparse

from flowc.cli.pathspecs import add_flow_name_option, full_pathspec

HELP = "stop a run on its engine (Argo, Step Functions, Airflow) and record who ended it"


def _target(argv: list[str]) -> str | None:
    from flowc.backends import target_of_run
    from flowc.cli.target_options import target_from_argv

    given = target_from_argv(argv)
    if given:
        return given
    pathspecs = [word for word in argv[1:] if not word.startswith("-")]
    return target_of_run(pathspecs[0].strip("/").split("/")[-1]) if pathspecs else None


def add_arguments(parser: argparse.ArgumentParser, argv: list[str]) -> None:
    from flowc.backends import TARGETS, load_backend

    parser.add_argument("run", metavar="RUN", help="Flow/run_id (run_id under python FLOW.py)")
    parser.add_argument("--target", choices=sorted(TARGETS), help="the engine (default: the run id's prefix)")
    parser.add_argument(
        "--datastore", metavar="URL", help="datastore root (default: FLOWC_DATASTORE or config)"
    )
    add_flow_name_option(parser)
    target = _target(argv)
    if target in TARGETS:
        load_backend(target).add_arguments("terminate", parser)


def run(args: argparse.Namespace) -> int:
    import sys

    from flowc.backends import load_backend, target_of_run
    from flowc.backends.base import OperateError
    from flowc.backends.options import engine_options
    from flowc.config import load_settings
    from flowc.datastore.storage import StorageError, open_storage
    from flowc.ids import check_flow_name, check_run_id
    from flowc.metadata import current_user, write_status
    from flowc.task_runner.finish import task_counts

    pathspec = full_pathspec(args.run, args.flow_name, (2,))
    parts = pathspec.split("/")
    if len(parts) != 2:
        print(f"flowc terminate: give Flow/run_id, not {args.run!r}", file=sys.stderr)
        return 2
    flow, run_id = check_flow_name(parts[0]), check_run_id(parts[1])
    started_by = target_of_run(run_id)
    if started_by is None:
        print(
            f"flowc terminate: run {pathspec} was not started by an engine (a local run ends with Ctrl-C)",
            file=sys.stderr,
        )
        return 2
    if args.target and args.target != started_by:
        print(
            f"flowc terminate: run {run_id} was started by {started_by}, not {args.target}", file=sys.stderr
        )
        return 2
    settings = load_settings({"datastore": args.datastore})
    try:
        done = load_backend(started_by).terminate(flow, run_id, settings, engine_options(vars(args)))
    except OperateError as exc:
        print(f"flowc terminate: {pathspec}: {exc}", file=sys.stderr)
        return exc.code
    user = current_user()
    try:
        storage = open_storage(str(settings["datastore"]))
        counts = task_counts(storage, flow, run_id)
        write_status(storage, flow, run_id, "killed", f"flowc terminate ({done})", counts, ended_by=user)
    except StorageError as exc:
        print(f"flowc terminate: {done}, but its end could not be recorded: {exc}", file=sys.stderr)
        return 1
    print(f"terminated {pathspec}: {done}")
    return 0
