"""``flowc dump Flow/run[/step[/task]]``: artifacts of a task, of every task of a step, or of a run's
end task. Metaflow's options work too: ``--include a,b``, ``--private``, ``--max-value-size N`` and
``--file F`` (a pickle of ``{task pathspec: {artifact: value}}``; the pathspecs are in the form given:
``run/step/task`` when the flow was left out, as Metaflow's ``python FLOW.py dump --file`` writes
them, and its core suite's checkers rebuild ``Flow/run/step/task`` from them)."""

from __future__ import annotations

import argparse

from flowc.cli.pathspecs import add_flow_name_option, full_pathspec

HELP = "print the artifacts of a task (Flow/run/step/task), a step's tasks, or a run's end task (Flow/run)"


def add_arguments(parser: argparse.ArgumentParser, argv: list[str]) -> None:
    parser.add_argument(
        "pathspec", help="Flow/run_id/step/task_id, Flow/run_id/step (its tasks) or Flow/run_id (end task)"
    )
    parser.add_argument(
        "--datastore", metavar="URL", help="datastore root (default: FLOWC_DATASTORE or config)"
    )
    parser.add_argument(
        "--artifact", action="append", default=[], metavar="NAME", help="only these artifacts"
    )
    parser.add_argument(
        "--include", metavar="A,B", help="only these artifacts, comma-separated (Metaflow's form)"
    )
    parser.add_argument("--private", action="store_true", help="also artifacts whose names start with '_'")
    parser.add_argument(
        "--max-value-size", type=int, metavar="BYTES", help="leave out artifacts stored larger than this"
    )
    parser.add_argument(
        "--file", metavar="F", help="write {task pathspec: {artifact: value}} to F as a pickle, print nothing"
    )
    parser.add_argument(
        "--max-width", type=int, default=200, metavar="N", help="truncate each value to N characters"
    )
    add_flow_name_option(parser)


def run(args: argparse.Namespace) -> int:
    import sys

    from flowc.client import MetaflowNotFound, Run, Step, Task, namespace
    from flowc.datastore.storage import StorageError

    namespace(None)  # a pathspec names one run exactly: no namespace filtering
    pathspec = full_pathspec(args.pathspec, args.flow_name, (2, 3, 4))
    # Metaflow's form (no flow in front) keys the pickle by run/step/task, as Metaflow's dump does.
    key_start = len(pathspec.split("/")[0]) + 1 if pathspec != args.pathspec.strip("/") else 0
    parts = pathspec.split("/")
    wanted = set(args.artifact) | set(filter(None, (args.include or "").split(",")))
    code = 0
    try:
        if len(parts) == 2:
            task = Run(pathspec, datastore=args.datastore).end_task
            if task is None:
                print(f"flowc dump: run {pathspec} has no successful end task; name a task", file=sys.stderr)
                return 1
            tasks = [task]
        elif len(parts) == 3:
            tasks = list(Step(pathspec, datastore=args.datastore))
        elif len(parts) == 4:
            tasks = [Task(pathspec, datastore=args.datastore)]
        else:
            print(
                "flowc dump: give Flow/run_id/step/task_id, Flow/run_id/step or Flow/run_id", file=sys.stderr
            )
            return 2
        dumped: dict[str, dict[str, object]] = {}
        for task in tasks:
            values = dumped[task.pathspec[key_start:]] = {}
            if args.file is None:
                state = "successful" if task.successful else "not successful"
                print(f"{task.pathspec} (attempt {task.current_attempt}, {state})")
            for artifact in task.artifacts:
                if wanted and artifact.id not in wanted:
                    continue
                if artifact.id.startswith("_") and not args.private and artifact.id not in wanted:
                    continue
                if args.max_value_size is not None and (artifact.size or 0) > args.max_value_size:
                    continue
                try:
                    values[artifact.id] = artifact.data
                except Exception as exc:  # corrupt, or its class cannot be imported here: say so, go on
                    print(f"flowc dump: {artifact.pathspec}: cannot load it: {exc}", file=sys.stderr)
                    code = 1
                    if args.file is None:
                        print(f"  {artifact.id} = <cannot load: {type(exc).__name__}>")
                    continue
                if args.file is None:
                    text = repr(values[artifact.id])
                    if len(text) > args.max_width:
                        text = text[: args.max_width - 3] + "..."
                    print(f"  {artifact.id} = {text}")
    except MetaflowNotFound as exc:
        print(f"flowc dump: {exc}", file=sys.stderr)
        return 1
    except StorageError as exc:  # a corrupt record, an unreachable datastore
        print(f"flowc dump: {exc}", file=sys.stderr)
        return 1
    if args.file is not None:
        _write_pickle(args.file, dumped)
    return code


def _write_pickle(path: str, dumped: dict[str, dict[str, object]]) -> None:
    """Writes ``dumped`` whole or not at all (a temporary file renamed into place)."""
    import os
    import pickle
    import tempfile

    folder = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=".dump-")
    try:
        with os.fdopen(fd, "wb") as out:
            pickle.dump(dumped, out, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
