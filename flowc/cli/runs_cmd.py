"""``flowc runs FLOW``: a flow's runs, newest first, with their status."""

from __future__ import annotations

import argparse

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
    try:
        flow = Flow(args.flow, datastore=args.datastore)
    except MetaflowNotFound as exc:
        print(f"flowc runs: {exc}", file=sys.stderr)
        return 1
    import warnings

    from flowc.datastore.storage import StorageError

    with warnings.catch_warnings(record=True) as skipped:  # runs whose record is corrupt
        warnings.simplefilter("always")
        runs = list(flow.runs(*args.tag))
    for warning in skipped:
        print(f"flowc runs: {warning.message}", file=sys.stderr)
    rows = []
    for found in runs:
        try:
            recorded = found.status.get("status")
            if found.successful:
                state = "successful"
            elif recorded == "successful":  # recorded so, but some of its tasks are gone
                state = "incomplete"
            else:
                state = recorded or _unfinished(found)
        except StorageError as exc:  # its end task's or status record is corrupt
            print(f"flowc runs: {found.pathspec}: {exc}", file=sys.stderr)
            state = "unreadable"
        started = found.created_at.strftime("%Y-%m-%d %H:%M:%S") if found.created_at else "?"
        origin = f" (resumes {found.origin_run_id})" if found.origin_run_id else ""
        # A tag stored before tags were checked (flowc.ids) may hold a line break: one line per run.
        tags = ",".join(t if t.isprintable() else repr(t) for t in sorted(found.user_tags))
        rows.append((found.id, state, started, (tags + origin).strip()))
    if not rows:
        print(f"no runs of {args.flow} in namespace {get_namespace()!r} (--all shows every user's)")
        return 0
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print(
            "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3]))
            + ("  " + row[3] if row[3] else "")
        )
    return 0
