"""``flowc logs Flow/run/step[/task]``: what a task (or every task of a step) printed.

Both streams: stdout's log on stdout, stderr's on stderr. One stream (``--stdout`` / ``--stderr``):
on stdout, as Metaflow prints it, so ``flowc logs --stderr ... > file`` keeps it.
``--follow`` (also for a whole run, ``Flow/run``) prints lines as the logs grow, until the task
has succeeded or the run has ended (:mod:`flowc.client.follow`).
"""

from __future__ import annotations

import argparse

from flowc.cli.pathspecs import add_flow_name_option, full_pathspec

HELP = "print a task's stdout / stderr (Flow/run/step/task, or Flow/run/step for all its tasks)"


def add_arguments(parser: argparse.ArgumentParser, argv: list[str]) -> None:
    parser.add_argument(
        "pathspec", help="Flow/run_id/step/task_id or Flow/run_id/step (Flow/run_id with --follow)"
    )
    parser.add_argument(
        "--follow",
        "-f",
        action="store_true",
        help="print new lines as they come, until the task succeeded or the run ended",
    )
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
    if args.follow:
        return _follow(args)
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


#: How often ``--follow`` reads the logs again (tasks upload theirs every few seconds).
FOLLOW_SECONDS = 1.0


def _follow(args: argparse.Namespace) -> int:
    import sys
    import time

    from flowc.client import MetaflowNotFound, Run
    from flowc.client.follow import LogFollower
    from flowc.datastore.storage import StorageError

    pathspec = full_pathspec(args.pathspec, args.flow_name, (2, 3, 4))
    parts = pathspec.split("/")
    if len(parts) not in (2, 3, 4):
        print("flowc logs: give Flow/run_id[/step[/task_id]]", file=sys.stderr)
        return 2
    streams = ("stdout",) if args.stdout else ("stderr",) if args.stderr else ("stdout", "stderr")
    try:
        run = Run("/".join(parts[:2]), datastore=args.datastore, _namespace_check=False)
        follower = LogFollower(
            run._store.storage, parts[0], parts[1], "/".join(parts[2:]) or None, streams=streams
        )
        while not follower.poll():
            time.sleep(FOLLOW_SECONDS)
    except (MetaflowNotFound, StorageError) as exc:
        print(f"flowc logs: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0
