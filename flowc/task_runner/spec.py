"""The task runner's command line (docs/architecture.md, "Task runner command line").

:class:`TaskSpec` is the parsed form; :func:`parse_argv` and :func:`format_argv` convert both
ways, so launchers build the argv from the same definition the runner parses.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass

from flowc.ids import argument, check_flow_name, check_run_id, check_step_name, check_tag

__all__ = ["TaskSpec", "build_parser", "format_argv", "parse_argv"]


@dataclass(frozen=True)
class TaskSpec:
    """One task to run: its identity, where the flow's code is, and where the datastore is.

    Attributes:
        flow: the flow's class name.
        step: the step to run.
        run_id: the run's id.
        index_path: the foreach index path, outermost first (``()`` outside any foreach).
        iteration: loop iteration (see "Task identity").
        attempt: the attempt number; None claims the next free one.
        source: the flow file (``--source``).
        package: the code package's SHA-256 (``--package``), instead of ``source``.
        datastore: datastore URL; None uses ``FLOWC_DATASTORE`` then configuration.
        control_file: where to write the control record as JSON, besides the datastore.
        params_file: JSON object of parameter values (start task only).
        tags: user tags recorded on the run when the start task creates the run record.
    """

    flow: str
    step: str
    run_id: str
    index_path: tuple[int, ...] = ()
    iteration: int = 0
    attempt: int | None = None
    source: str | None = None
    package: str | None = None
    datastore: str | None = None
    control_file: str | None = None
    params_file: str | None = None
    tags: tuple[str, ...] = ()

    @property
    def task_id(self) -> str:
        from flowc.datastore.layout import task_id

        return task_id(self.step, self.index_path, self.iteration)

    @property
    def pathspec(self) -> str:
        return f"{self.flow}/{self.run_id}/{self.step}/{self.task_id}"


def _index_path(text: str) -> tuple[int, ...]:
    if not text:
        return ()
    try:
        path = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--index {text!r}: expected comma-separated integers") from None
    if any(index < 0 for index in path):
        raise argparse.ArgumentTypeError(f"--index {text!r}: indices are not negative")
    return path


def _natural(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is negative")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m flowc.task_runner",
        description="Runs one task of one step of a flow against a datastore (exit codes: 0 success, "
        "1 the step raised, 2 bad input, 3 datastore failure, 4 killed by @timeout).",
    )
    parser.add_argument("--flow", required=True, type=argument(check_flow_name), help="the flow's class name")
    parser.add_argument("--step", required=True, type=argument(check_step_name), help="the step to run")
    parser.add_argument("--run-id", required=True, type=argument(check_run_id), help="the run's id")
    parser.add_argument("--index", type=_index_path, default=(), help="foreach index path, e.g. 3,1")
    parser.add_argument("--iteration", type=_natural, default=0, help="loop iteration (default 0)")
    parser.add_argument("--attempt", type=_natural, default=None, help="attempt number (default: next free)")
    code = parser.add_mutually_exclusive_group(required=True)
    code.add_argument("--source", help="the flow file")
    code.add_argument("--package", help="SHA-256 of the code package in the datastore")
    parser.add_argument("--datastore", help="datastore URL (default: FLOWC_DATASTORE, then configuration)")
    parser.add_argument("--control-file", help="also write the control record to this file")
    parser.add_argument("--params-file", help="JSON object of parameter values (start task)")
    parser.add_argument(
        "--tag", action="append", default=[], type=argument(check_tag), help="a run tag (repeatable)"
    )
    return parser


def parse_argv(argv: Sequence[str]) -> TaskSpec:
    """The :class:`TaskSpec` of a command line; exits with code 2 (argparse) when it is malformed."""
    args = build_parser().parse_args(list(argv))
    return TaskSpec(
        flow=args.flow,
        step=args.step,
        run_id=args.run_id,
        index_path=tuple(args.index),
        iteration=args.iteration,
        attempt=args.attempt,
        source=args.source,
        package=args.package,
        datastore=args.datastore,
        control_file=args.control_file,
        params_file=args.params_file,
        tags=tuple(args.tag),
    )


def format_argv(spec: TaskSpec) -> list[str]:
    """The command-line arguments (after ``python -m flowc.task_runner``) that describe ``spec``."""
    argv = ["--flow", spec.flow, "--step", spec.step, "--run-id", spec.run_id]
    if spec.index_path:
        argv += ["--index", ",".join(str(i) for i in spec.index_path)]
    if spec.iteration:
        argv += ["--iteration", str(spec.iteration)]
    if spec.attempt is not None:
        argv += ["--attempt", str(spec.attempt)]
    if spec.source is not None:
        argv += ["--source", spec.source]
    if spec.package is not None:
        argv += ["--package", spec.package]
    if spec.datastore is not None:
        argv += ["--datastore", spec.datastore]
    if spec.control_file is not None:
        argv += ["--control-file", spec.control_file]
    if spec.params_file is not None:
        argv += ["--params-file", spec.params_file]
    for tag in spec.tags:
        argv += ["--tag", tag]
    return argv
