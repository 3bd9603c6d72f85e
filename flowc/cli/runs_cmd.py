"""``flowc runs FLOW [--target T]``: a flow's runs, newest first, with their status.

With ``--target``, the engine's own runs of the flow (every deployment of it) are listed too,
merged with the datastore's by run id: each row shows what the datastore recorded and what the
engine says (``-`` where one of them does not know the run).
"""

from __future__ import annotations

import argparse
from typing import Any

from flowc.ids import argument, check_flow_name, check_tag

HELP = "list a flow's runs, newest first"


def add_arguments(parser: argparse.ArgumentParser, argv: list[str]) -> None:
    parser.add_argument("flow", type=argument(check_flow_name), help="the flow's name (its class name)")
    parser.add_argument(
        "--datastore", metavar="URL", help="datastore root (default: FLOWC_DATASTORE or config)"
    )
    parser.add_argument("--all", action="store_true", help="every user's runs (namespace None)")
    parser.add_argument(
        "--tag",
        action="append",
        default=[],
        type=argument(check_tag),
        metavar="T",
        help="only runs with this tag",
    )
    from flowc.backends import TARGETS, load_backend
    from flowc.cli.target_options import target_from_argv

    parser.add_argument(
        "--target", choices=sorted(TARGETS), help="also ask this engine for the flow's runs, and merge"
    )
    target = target_from_argv(argv)
    if target in TARGETS:
        load_backend(target).add_arguments("runs", parser)


def _unfinished(found: object) -> str:
    """``running``, or ``crashed`` when its local runtime no longer exists (``records.liveness``)."""
    from flowc.runtime.records import liveness

    state = liveness(getattr(found, "_record", {}), None)
    return "crashed" if state == "crashed" else "running"


def run(args: argparse.Namespace) -> int:
    import sys

    from flowc.client import Flow, MetaflowNotFound, namespace
    from flowc.client.namespaces import get_namespace

    if args.all:
        namespace(None)
    import warnings

    try:
        flow = Flow(args.flow, datastore=args.datastore)
    except MetaflowNotFound as exc:
        if not args.target:  # the engine may know runs the datastore has no record of
            print(f"flowc runs: {exc}", file=sys.stderr)
            return 1
        flow = None
    with warnings.catch_warnings(record=True) as skipped:  # runs whose record is corrupt
        warnings.simplefilter("always")
        runs = list(flow.runs(*args.tag)) if flow is not None else []
    for warning in skipped:
        print(f"flowc runs: {warning.message}", file=sys.stderr)
    rows = {found.id: _row(found) for found in runs}
    if args.target:
        code = _merge_engine_runs(args, rows)
        if code:
            return code
    if not rows:
        print(f"no runs of {args.flow} in namespace {get_namespace()!r} (--all shows every user's)")
        return 0
    columns = ["id", "state", "engine", "started"] if args.target else ["id", "state", "started"]
    table = sorted(rows.values(), key=lambda row: row["started"], reverse=True)
    widths = {c: max(len(row[c]) for row in table) for c in columns}
    for row in table:
        cells = "  ".join(row[c].ljust(widths[c]) for c in columns)
        print(cells + ("  " + row["tags"] if row["tags"] else ""))
    return 0


def _row(found: object) -> dict[str, str]:
    """One line of the table for a run of the datastore (a client ``Run``)."""
    import sys

    from flowc.datastore.storage import StorageError

    run: Any = found
    try:
        recorded = run.status.get("status")
        if run.successful:
            state = "successful"
        elif recorded == "successful":  # recorded so, but some of its tasks are gone
            state = "incomplete"
        else:
            state = recorded or _unfinished(run)
    except StorageError as exc:  # its end task's or status record is corrupt
        print(f"flowc runs: {run.pathspec}: {exc}", file=sys.stderr)
        state = "unreadable"
    started = run.created_at.strftime("%Y-%m-%d %H:%M:%S") if run.created_at else "?"
    origin = f" (resumes {run.origin_run_id})" if run.origin_run_id else ""
    # A tag stored before tags were checked (flowc.ids) may hold a line break: one line per run.
    tags = ",".join(t if t.isprintable() else repr(t) for t in sorted(run.user_tags))
    return {"id": run.id, "state": state, "engine": "-", "started": started, "tags": (tags + origin).strip()}


def _merge_engine_runs(args: argparse.Namespace, rows: dict[str, dict[str, str]]) -> int:
    """Keeps this engine's runs in ``rows`` and adds what the engine says of each (``engine``), with
    a row for every run the engine knows that the listing did not show (another user's, or one
    whose start task never recorded it: state ``-``)."""
    import sys

    from flowc.backends import load_backend, target_of_run
    from flowc.backends.base import OperateError
    from flowc.backends.options import engine_options
    from flowc.client import MetaflowNotFound, Run
    from flowc.config import load_settings

    settings = load_settings({"datastore": args.datastore})
    try:
        known = load_backend(args.target).engine_runs(args.flow, settings, engine_options(vars(args)))
    except OperateError as exc:
        print(f"flowc runs: {args.target}: {exc}", file=sys.stderr)
        return exc.code
    for run_id in [r for r in rows if target_of_run(r) != args.target]:
        del rows[run_id]
    for engine_run in known:
        if engine_run.run_id not in rows:
            if args.tag:  # the listing filtered by tag: a run it did not show lacks one
                continue
            try:
                found = Run(
                    f"{args.flow}/{engine_run.run_id}", datastore=args.datastore, _namespace_check=False
                )
                rows[engine_run.run_id] = _row(found)
            except MetaflowNotFound:
                started = (engine_run.started or "?").replace("T", " ")[:19]
                rows[engine_run.run_id] = {
                    "id": engine_run.run_id, "state": "-", "engine": "-", "started": started, "tags": ""
                }  # fmt: skip
        rows[engine_run.run_id]["engine"] = f"{args.target}: {engine_run.state}"
    return 0
