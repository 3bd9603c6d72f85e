"""The command lines of the task runner's three modules (docs/architecture.md, "Task runner command line").

Every launcher builds them here, and the modules parse them here, from one definition:

* ``python -m flowc.task_runner``: one task (:class:`TaskSpec`, :func:`format_argv`, :func:`parse_argv`);
* ``python -m flowc.task_runner.region``: a loop's steps in one engine task (:class:`RegionSpec`,
  :func:`format_region_argv`, :func:`parse_region_argv`);
* ``python -m flowc.task_runner.finish``: an engine's end-of-run hook (:class:`FinishSpec`,
  :func:`format_finish_argv`, :func:`parse_finish_argv`); ``python -m flowc.task_runner.hooks``
  (the local runtime's exit hooks) reads the same line.

A value only the engine knows when the task starts (the run id from the engine's run name, the
foreach index path, the iteration, the attempt) is a :class:`Placeholder` holding the engine's own
expression: an Argo tag (``{{inputs.parameters.index}}``), a Step Functions JSONPath (``$.index``),
an Airflow Jinja expression or a token the Airflow DAG's runtime fills. The formatter puts it where
the value goes and keeps it a :class:`Placeholder`, so a target that must write literals and
expressions differently (Step Functions' ``States.Array``) can tell them apart.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass

from flowc.ids import argument, check_flow_name, check_run_id, check_step_name, check_tag
from flowc.metadata import TaskAddress

__all__ = [
    "FINISH_STATUSES",
    "RESUME_ENVIRONMENT",
    "FinishSpec",
    "Placeholder",
    "RegionSpec",
    "TaskSpec",
    "build_parser",
    "check_resume",
    "format_argv",
    "format_finish_argv",
    "format_region_argv",
    "parse_argv",
    "parse_finish_argv",
    "parse_region_argv",
]

#: The environment form of the start task's ``--resume``, for engines whose argv has no room for a
#: run id of any length (Argo: the start task's argv is at its 512-byte budget). Empty: no resume.
RESUME_ENVIRONMENT = "FLOWC_RESUME"

#: ``--status`` of the finish command: ``auto`` reads the outcome from the datastore.
FINISH_STATUSES = ("auto", "successful", "failed", "killed")


class Placeholder(str):
    """A value the engine fills in when the task starts, written in the engine's own syntax.

    It is text (so Argo and Airflow use the argv as it is), of its own type so a target can write
    it differently from a literal word (Step Functions quotes literals in ``States.Array`` but not
    its JSONPaths).
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Placeholder({str.__repr__(self)})"


@dataclass(frozen=True)
class TaskSpec:
    """One task to run: which task, where the flow's code is, and where the datastore is.

    Attributes:
        address: which task: flow, run id, step, foreach index path and loop iteration
            (docs/architecture.md, "Task identity").
        attempt: the attempt number; None claims the next free one.
        source: the flow file (``--source``).
        package: the code package's SHA-256 (``--package``), instead of ``source``.
        ir: the digest of the IR the task's document was compiled from (``--ir``,
            :meth:`flowc.ir.FlowIR.digest`); the task refuses code whose IR has another.
        datastore: datastore URL; None uses ``FLOWC_DATASTORE`` then configuration.
        control_file: where to write the control record as JSON, besides the datastore.
        params_file: JSON object of parameter values (start task only).
        tags: user tags recorded on the run when the start task creates the run record.
        resume: the start task's ``ORIGIN_RUN_ID`` or ``ORIGIN_RUN_ID/STEP``: the run resumes
            that one in place. The start task records it in the run record, where every other
            task reads it; each task is cloned from the origin run when it succeeded there and
            its step is not STEP or after it (:mod:`flowc.runtime.resume`). ``""`` or None: a run
            of its own.

    A launcher may give the address's run id, index path and iteration, the ``attempt`` (and any
    other text) as a :class:`Placeholder`; such a spec is only formatted, never run.
    """

    address: TaskAddress
    attempt: int | Placeholder | None = None
    source: str | None = None
    package: str | None = None
    ir: str | None = None
    datastore: str | None = None
    control_file: str | None = None
    params_file: str | None = None
    tags: tuple[str, ...] = ()
    resume: str | None = None

    @property
    def origin(self) -> tuple[str, str | None] | None:
        """``(origin run id, step to re-run from or None)`` of ``resume``, or None."""
        if not self.resume or isinstance(self.resume, Placeholder):
            return None
        run_id, _, step = self.resume.partition("/")
        return run_id, step or None


@dataclass(frozen=True)
class RegionSpec:
    """A loop's steps run by one engine task (:mod:`flowc.task_runner.region`).

    Attributes:
        task: the task the region starts at (its address's ``step`` is ``--entry``); its index path, code,
            datastore and tags are every step's, and its ``control_file`` receives the control
            record of the step that leaves the region.
        steps: the region's steps.
        retries: ``(step, times, seconds between attempts)`` of each step with ``@retry``.
    """

    task: TaskSpec
    steps: tuple[str, ...]
    retries: tuple[tuple[str, int, float], ...] = ()


@dataclass(frozen=True)
class FinishSpec:
    """An engine's end-of-run hook (:mod:`flowc.task_runner.finish`).

    Attributes:
        flow: the flow's class name.
        run_id: the run's id.
        datastore: datastore URL; None uses ``FLOWC_DATASTORE`` then configuration.
        package: the code package's SHA-256 (the bootstrap finds flowc in it; the exit hooks are
            found in it).
        source: the flow file, when there is no code package (where the exit hooks are found).
        status: the outcome; ``auto`` reads it from the datastore.
        reason: why, e.g. the engine's own status.
        notify: the outcomes (``error``, ``success``) to notify the configured webhooks of
            (:mod:`flowc.notifications`).
    """

    flow: str
    run_id: str
    datastore: str | None = None
    package: str | None = None
    source: str | None = None
    status: str = "auto"
    reason: str | None = None
    notify: tuple[str, ...] = ()


def _word(value: int | str) -> str:
    """A value as one argv word; a :class:`Placeholder` stays one."""
    return value if isinstance(value, str) else str(value)


def _index_text(path: tuple[int, ...] | Placeholder) -> str:
    return path if isinstance(path, Placeholder) else ",".join(str(i) for i in path)


def format_argv(spec: TaskSpec) -> list[str]:
    """The command-line arguments (after ``python -m flowc.task_runner``) that describe ``spec``."""
    task = spec.address
    argv = ["--flow", task.flow, "--step", task.step, "--run-id", task.run_id]
    return argv + _task_options(spec)


def _task_options(spec: TaskSpec) -> list[str]:
    """Every option of ``spec`` after the flow, step and run id (shared with the region's argv)."""
    argv: list[str] = []
    task = spec.address
    if task.index_path:
        argv += ["--index", _index_text(task.index_path)]
    if task.iteration or isinstance(task.iteration, Placeholder):
        argv += ["--iteration", _word(task.iteration)]
    if spec.attempt is not None:
        argv += ["--attempt", _word(spec.attempt)]
    if spec.source is not None:
        argv += ["--source", spec.source]
    if spec.package is not None:
        argv += ["--package", spec.package]
    if spec.ir is not None:
        argv += ["--ir", spec.ir]
    if spec.datastore is not None:
        argv += ["--datastore", spec.datastore]
    if spec.control_file is not None:
        argv += ["--control-file", spec.control_file]
    if spec.params_file is not None:
        argv += ["--params-file", spec.params_file]
    for tag in spec.tags:
        argv += ["--tag", tag]
    if spec.resume is not None:
        argv += ["--resume", spec.resume]
    return argv


def format_region_argv(region: RegionSpec) -> list[str]:
    """The arguments (after ``python -m flowc.task_runner.region``) that describe ``region``."""
    entry = region.task.address
    argv = ["--flow", entry.flow, "--run-id", entry.run_id, "--entry", entry.step]
    argv += ["--steps", ",".join(region.steps)]
    for step, times, seconds in region.retries:
        argv += ["--retry", f"{step}={times}:{seconds:g}"]
    return argv + _task_options(region.task)


def format_finish_argv(spec: FinishSpec) -> list[str]:
    """The arguments (after ``python -m flowc.task_runner.finish``) that describe ``spec``."""
    argv = ["--flow", spec.flow, "--run-id", spec.run_id]
    if spec.package is not None:
        argv += ["--package", spec.package]
    if spec.source is not None:
        argv += ["--source", spec.source]
    if spec.datastore is not None:
        argv += ["--datastore", spec.datastore]
    if spec.status != "auto":
        argv += ["--status", spec.status]
    if spec.reason is not None:
        argv += ["--reason", spec.reason]
    if spec.notify:
        from flowc.notifications import finish_arguments

        argv += finish_arguments(spec.notify)
    return argv


# ---- parsing ---------------------------------------------------------------------------------
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


def check_resume(text: str) -> str:
    """``text`` if it is ``ORIGIN_RUN_ID[/STEP]`` (or empty), else an error naming the problem."""
    run_id, _, step = text.partition("/")
    if run_id:
        check_run_id(run_id)
        if step:
            check_step_name(step)
    elif step:
        raise argparse.ArgumentTypeError(f"--resume {text!r}: expected ORIGIN_RUN_ID[/STEP]")
    return text


def _natural(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is negative")
    return value


def _ir_digest(text: str) -> str:
    from flowc.ir import IR_DIGEST_LENGTH

    if len(text) != IR_DIGEST_LENGTH or any(c not in "0123456789abcdef" for c in text):
        raise argparse.ArgumentTypeError(
            f"--ir {text!r}: expected an IR digest ({IR_DIGEST_LENGTH} hex characters)"
        )
    return text


def _retry_rule(text: str) -> tuple[str, int, float]:
    name, _, rule = text.partition("=")
    times, _, seconds = rule.partition(":")
    try:
        return check_step_name(name), _natural(times), float(seconds or 0)
    except (ValueError, argparse.ArgumentTypeError):
        raise argparse.ArgumentTypeError(f"--retry {text!r}: expected STEP=TIMES:SECONDS") from None


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--flow", required=True, type=argument(check_flow_name), help="the flow's class name")
    parser.add_argument("--run-id", required=True, type=argument(check_run_id), help="the run's id")


def _add_task_options(parser: argparse.ArgumentParser, step_option: str) -> None:
    """The options of :func:`_task_options` (``step_option``: ``--step``, or the region's ``--entry``)."""
    help_text = "the step to run" if step_option == "--step" else "the step the loop is entered at"
    parser.add_argument(
        step_option, dest="step", required=True, type=argument(check_step_name), help=help_text
    )
    parser.add_argument("--index", type=_index_path, default=(), help="foreach index path, e.g. 3,1")
    parser.add_argument("--iteration", type=_natural, default=0, help="loop iteration (default 0)")
    parser.add_argument("--attempt", type=_natural, default=None, help="attempt number (default: next free)")
    code = parser.add_mutually_exclusive_group(required=step_option == "--step")
    code.add_argument("--source", help="the flow file")
    code.add_argument("--package", help="SHA-256 of the code package in the datastore")
    parser.add_argument(
        "--ir", type=_ir_digest, help="digest of the IR the task's document was compiled from (checked)"
    )
    parser.add_argument("--datastore", help="datastore URL (default: FLOWC_DATASTORE, then configuration)")
    parser.add_argument("--control-file", help="also write the control record to this file")
    parser.add_argument("--params-file", help="JSON object of parameter values (start task)")
    parser.add_argument(
        "--tag", action="append", default=[], type=argument(check_tag), help="a run tag (repeatable)"
    )
    parser.add_argument(
        "--resume",
        type=check_resume,
        default=None,
        metavar="ORIGIN_RUN_ID[/STEP]",
        help="resume that run in place: clone this task from it when it succeeded there (empty: no)",
    )


def _task_spec(args: argparse.Namespace) -> TaskSpec:
    return TaskSpec(
        address=TaskAddress(
            flow=args.flow,
            run_id=args.run_id,
            step=args.step,
            index_path=tuple(args.index),
            iteration=args.iteration,
        ),
        attempt=args.attempt,
        source=args.source,
        package=args.package,
        ir=args.ir,
        datastore=args.datastore,
        control_file=args.control_file,
        params_file=args.params_file,
        tags=tuple(args.tag),
        resume=args.resume or None,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m flowc.task_runner",
        description="Runs one task of one step of a flow against a datastore (exit codes: 0 success, "
        "1 the step raised, 2 bad input, 3 datastore failure, 4 killed by @timeout).",
    )
    _add_run_options(parser)
    _add_task_options(parser, "--step")
    return parser


def parse_argv(argv: Sequence[str]) -> TaskSpec:
    """The :class:`TaskSpec` of a command line; exits with code 2 (argparse) when it is malformed."""
    return _task_spec(build_parser().parse_args(list(argv)))


def parse_region_argv(argv: Sequence[str]) -> RegionSpec:
    """The :class:`RegionSpec` of a command line; exits with code 2 (argparse) when it is malformed."""
    parser = argparse.ArgumentParser(
        prog="python -m flowc.task_runner.region",
        description="Runs a loop's steps, one task-runner process per step and iteration, until a "
        "control record leaves the loop.",
    )
    _add_run_options(parser)
    _add_task_options(parser, "--entry")
    parser.add_argument("--steps", required=True, help="the loop's steps, comma-separated")
    parser.add_argument(
        "--retry", action="append", default=[], type=_retry_rule, metavar="STEP=TIMES:SECONDS"
    )
    args = parser.parse_args(list(argv))
    steps = tuple(s for s in args.steps.split(",") if s)
    if args.step not in steps:
        parser.error(f"--entry {args.step!r} is not one of --steps {','.join(steps)}")
    return RegionSpec(task=_task_spec(args), steps=steps, retries=tuple(args.retry))


def parse_finish_argv(argv: Sequence[str], prog: str = "python -m flowc.task_runner.finish") -> FinishSpec:
    """The :class:`FinishSpec` of a command line; exits with code 2 (argparse) when it is malformed.

    ``python -m flowc.task_runner.hooks`` (a finished run's exit hooks) reads the same line.
    """
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Records how a run ended (status.json), for an orchestrator's exit hook.",
    )
    _add_run_options(parser)
    parser.add_argument("--datastore", help="datastore URL (default: FLOWC_DATASTORE, then configuration)")
    parser.add_argument(
        "--status", choices=FINISH_STATUSES, default="auto", help="the outcome (default: from the datastore)"
    )
    parser.add_argument("--reason", help="why, when --status is given (e.g. the engine's own status)")
    code = parser.add_mutually_exclusive_group()
    code.add_argument("--package", help="the code package's SHA-256 (where the exit hooks are found)")
    code.add_argument("--source", help="the flow file, when there is no code package")
    parser.add_argument(
        "--notify",
        action="append",
        choices=("error", "success"),
        default=[],
        help="notify the configured webhooks when the run ended so (flowc.notifications; repeatable)",
    )
    args = parser.parse_args(list(argv))
    return FinishSpec(
        flow=args.flow,
        run_id=args.run_id,
        datastore=args.datastore,
        package=args.package,
        source=args.source,
        status=args.status,
        reason=args.reason,
        notify=tuple(args.notify),
    )
