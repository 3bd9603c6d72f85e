"""``flowc dump Flow/run[/step/task]``: a task's artifacts (a run: its end task's)."""

from __future__ import annotations

import argparse

HELP = "print the artifacts of a task (Flow/run/step/task) or of a run's end task (Flow/run)"


def add_arguments(parser: argparse.ArgumentParser, argv: list[str]) -> None:
    parser.add_argument("pathspec", help="Flow/run_id/step/task_id, or Flow/run_id for the end task")
    parser.add_argument(
        "--datastore", metavar="URL", help="datastore root (default: FLOWC_DATASTORE or config)"
    )
    parser.add_argument(
        "--artifact", action="append", default=[], metavar="NAME", help="only these artifacts"
    )
    parser.add_argument(
        "--max-width", type=int, default=200, metavar="N", help="truncate each value to N characters"
    )


def run(args: argparse.Namespace) -> int:
    import sys

    from flowc.client import MetaflowNotFound, Run, Task, namespace
    from flowc.datastore.storage import StorageError

    namespace(None)  # a pathspec names one run exactly: no namespace filtering
    parts = args.pathspec.strip("/").split("/")
    code = 0
    try:
        if len(parts) == 2:
            task = Run(args.pathspec, datastore=args.datastore).end_task
            if task is None:
                print(
                    f"flowc dump: run {args.pathspec} has no successful end task; name a task",
                    file=sys.stderr,
                )
                return 1
        elif len(parts) == 4:
            task = Task(args.pathspec, datastore=args.datastore)
        else:
            print("flowc dump: give Flow/run_id/step/task_id or Flow/run_id", file=sys.stderr)
            return 2
        state = "successful" if task.successful else "not successful"
        print(f"{task.pathspec} (attempt {task.current_attempt}, {state})")
        for artifact in task.artifacts:
            if args.artifact and artifact.id not in args.artifact:
                continue
            try:
                text = repr(artifact.data)
            except Exception as exc:  # corrupt, or its class cannot be imported here: say so, go on
                print(f"flowc dump: {artifact.pathspec}: cannot load it: {exc}", file=sys.stderr)
                text, code = f"<cannot load: {type(exc).__name__}>", 1
            if len(text) > args.max_width:
                text = text[: args.max_width - 3] + "..."
            print(f"  {artifact.id} = {text}")
    except MetaflowNotFound as exc:
        print(f"flowc dump: {exc}", file=sys.stderr)
        return 1
    except StorageError as exc:  # a corrupt record, an unreachable datastore
        print(f"flowc dump: {exc}", file=sys.stderr)
        return 1
    return code
