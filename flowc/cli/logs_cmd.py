"""``flowc logs Flow/run/step[/task]``: what a task (or every task of a step) printed.

Both streams: stdout's log on stdout, stderr's on stderr. One stream (``--stdout`` / ``--stderr``):
on stdout, as Metaflow prints it, so ``flowc logs --stderr ... > file`` keeps it.
"""

from __future__ import annotations

import argparse

from flowc.cli.pathspecs import add_flow_name_option, full_pathspec

HELP = "print a task's stdout / stderr (Flow/run/step/task, or Flow/run/step for all its tasks)"


def add_arguments(parser: argparse.ArgumentParser, argv: list[str]) -> None:
    parser.add_argument("pathspec", help="Flow/run_id/step/task_id or Flow/run_id/step")
    parser.add_argument(
        "--datastore", metavar="URL", help="datastore root (default: FLOWC_DATASTORE or config)"
    )
    parser.add_argument("--attempt", type=int, metavar="N", help="this attempt (default: the latest one)")
    stream = parser.add_mutually_exclusive_group()
    stream.add_argument("--stdout", action="store_true", help="only stdout")
    stream.add_argument("--stderr", action="store_true", help="only stderr (printed on stdout)")
    add_flow_name_option(parser)


def run(args: argparse.Namespace) -> int:
    import sys

    from flowc.client import MetaflowNotFound, Step, Task, namespace
    from flowc.datastore.storage import StorageError

    namespace(None)  # a pathspec names one run exactly: no namespace filtering
    pathspec = full_pathspec(args.pathspec, args.flow_name, (3, 4))
    parts = pathspec.split("/")
    try:
        if len(parts) == 4:
            tasks = [Task(pathspec, datastore=args.datastore)]
        elif len(parts) == 3:
            tasks = list(Step(pathspec, datastore=args.datastore))
        else:
            print("flowc logs: give Flow/run_id/step/task_id or Flow/run_id/step", file=sys.stderr)
            return 2
        for task in tasks:
            attempt = task.current_attempt if args.attempt is None else args.attempt
            if len(tasks) > 1:
                print(f"=== {task.pathspec} (attempt {attempt})")
            if not args.stderr:
                sys.stdout.write(task.log("stdout", attempt))
            if args.stderr:
                sys.stdout.write(task.log("stderr", attempt))
            elif not args.stdout:
                sys.stdout.flush()
                sys.stderr.write(task.log("stderr", attempt))
                sys.stderr.flush()
    except (MetaflowNotFound, StorageError) as exc:  # StorageError: a corrupt record, no datastore
        print(f"flowc logs: {exc}", file=sys.stderr)
        return 1
    return 0
