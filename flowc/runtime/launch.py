"""Starting a run locally: IR, parameters, run record, executor, scheduler, final status and message.

:func:`start_run` is what ``flowc run`` and ``flowc resume`` call after parsing their command line.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from flowc.datastore.storage import StorageError
from flowc.ir import FlowIR
from flowc.metadata import TaskAddress, write_status
from flowc.runtime.display import Console
from flowc.runtime.records import STOPPING_RETRY_SECONDS, claim_run
from flowc.runtime.scheduler import STOP_SIGNALS, Outcome, Scheduler, SchedulerConfig

__all__ = ["EXIT_KILLED", "LaunchError", "LaunchOptions", "default_executor_name", "exit_code", "start_run"]

#: ``flowc run`` exit code when the run was stopped by SIGINT / SIGTERM (128 + SIGINT, as shells do).
EXIT_KILLED = 130


class LaunchError(RuntimeError):
    """The run could not start (the flow cannot be imported); no run was created."""


@dataclass(frozen=True)
class LaunchOptions:
    """How to start a run (already parsed and validated)."""

    flow_path: str
    datastore: str
    max_workers: int
    tags: tuple[str, ...] = ()
    run_id_file: str | None = None
    executor: str = "fork"
    parameters: Mapping[str, Any] = field(default_factory=dict)  # values for the start task
    timeout_grace: float = 10.0
    resume_command: str | None = None  # how the failure message tells the user to resume
    env: Mapping[str, str] = field(default_factory=dict)  # added to every task's environment


def default_executor_name() -> str:
    """``FLOWC_EXECUTOR`` (``fork`` or ``subprocess``), else ``fork``."""
    return os.environ.get("FLOWC_EXECUTOR", "fork") or "fork"


def _fork_entry(ir: FlowIR, flow_path: str, storage: Any) -> Callable[[Any], int]:
    """The task runner's in-process entry, with the flow imported once here (inherited by every fork).

    The datastore object is shared too: a local one holds no connection, and the S3 one makes a
    new client (on its already loaded session) in a process that forked.
    """
    import flowc.authoring.current  # noqa: F401 - imported by every task: once here, not per fork
    from flowc.task_runner.loading import load_flow
    from flowc.task_runner.runner import run_task

    loaded = load_flow(os.path.abspath(flow_path), ir.name, ir=ir)

    def entry(spec: Any) -> int:
        return run_task(spec, flow=loaded, storage=storage, owns_process=True)

    return entry


def _project_tags(ir: FlowIR, env: Mapping[str, str]) -> list[str]:
    """Metaflow's system tags of a @project run: ``project:<name>``, ``project_branch:<branch>``."""
    from flowc.project_branches import BRANCH_ENV

    if ir.project is None or not env.get(BRANCH_ENV):
        return []
    return [f"project:{ir.project.name}", f"project_branch:{env[BRANCH_ENV]}"]


def start_run(
    ir: FlowIR,
    options: LaunchOptions,
    *,
    origin_run_id: str | None = None,
    clone: Callable[[TaskAddress], dict[str, Any] | None] | None = None,
    console: Console | None = None,
) -> tuple[str, Outcome]:
    """Creates the run, runs it to its end, records its status; returns (run id, outcome).

    Args:
        ir: the flow.
        options: where and how.
        origin_run_id: for resume: the run this one continues (recorded in the run record).
        clone: for resume: ``clone(task)``, see :class:`Scheduler`.
        console: where output goes (the process's stdout / stderr by default).
    """
    from flowc.datastore.storage import open_storage
    from flowc.runtime.executor import make_executor

    console = console or Console()
    storage = open_storage(options.datastore)
    entry = None
    if options.executor == "fork":
        try:
            entry = _fork_entry(ir, options.flow_path, storage)
        except Exception as exc:  # the flow module raised on import: no run is created
            import traceback

            traceback.print_exc()
            raise LaunchError(f"importing {options.flow_path} raised {type(exc).__name__}: {exc}") from None
    executor = make_executor(options.executor, entry)
    environments = _step_environments(ir, storage, console)
    storage.sweep_abandoned_writes()  # reclaim the temporary files of tasks killed in earlier runs
    # Opened before the run is created: a path that cannot be written leaves no run behind.
    id_file = _open_run_id_file(options.run_id_file)
    try:
        run_id, _ = claim_run(
            storage,
            ir.name,
            tags=options.tags,
            parameters=options.parameters,
            origin_run_id=origin_run_id,
            system_tags=_project_tags(ir, options.env),
            configs=ir.config_values(),
        )
    except StorageError as exc:
        if id_file is not None:
            id_file.close()
        raise LaunchError(f"cannot create the run in datastore {storage.url}: {exc}") from None
    if id_file is not None:
        with id_file:
            id_file.write(run_id)
    started = time.monotonic()
    console.event(f"run {ir.name}/{run_id} started (datastore {storage.url}, {options.executor} executor)")
    with tempfile.TemporaryDirectory(prefix="flowc-run-") as scratch:
        params_file = os.path.join(scratch, "parameters.json")
        with open(params_file, "w", encoding="utf-8") as handle:
            json.dump(dict(options.parameters), handle)
        config = SchedulerConfig(
            ir=ir,
            flow_path=os.path.abspath(options.flow_path),
            storage=storage,
            run_id=run_id,
            executor=executor,
            console=console,
            max_workers=max(1, options.max_workers),
            tags=tuple(options.tags),
            params_file=params_file,
            timeout_grace=options.timeout_grace,
            env=options.env,
            step_environments=environments,
            step_executor=make_executor("subprocess") if environments else None,
        )
        scheduler = Scheduler(config, clone=clone)
        outcome = scheduler.run()
    # A stop signal now would lose the status about to be written: they wait (ignored) until it is.
    with _signals_ignored():
        outcome = _record_status(storage, ir, run_id, outcome)
    _run_exit_hooks(ir, options, run_id, storage.url)
    with _signals_ignored():
        _final_message(console, ir, run_id, outcome, time.monotonic() - started, options)
    return run_id, outcome


def _step_environments(ir: FlowIR, storage: Any, console: Console) -> dict[str, Any]:
    """The @pypi environments of the flow's steps, locked and installed (before the run exists)."""
    if not any(step.python_environment for step in ir.steps):
        return {}
    from flowc.config import load_settings
    from flowc.environments.local import prepare_environments
    from flowc.environments.resolve import ResolveError

    try:
        return prepare_environments(ir, storage, load_settings(), say=console.event)
    except ResolveError as exc:
        raise LaunchError(str(exc)) from None


def _run_exit_hooks(ir: FlowIR, options: LaunchOptions, run_id: str, datastore: str) -> None:
    """The flow's ``@exit_hook`` functions, in their own process as on every target
    (``flowc.task_runner.hooks``): whatever they do, the run's recorded status stays."""
    if ir.exit_hooks is None:
        return
    import subprocess
    import sys

    from flowc.task_runner.spec import FinishSpec, format_finish_argv

    spec = FinishSpec(ir.name, run_id, source=os.path.abspath(options.flow_path), datastore=datastore)
    argv = [sys.executable, "-m", "flowc.task_runner.hooks", *format_finish_argv(spec)]
    subprocess.run(argv, env={**os.environ, **options.env}, check=False)


def _record_status(storage: Any, ir: FlowIR, run_id: str, outcome: Outcome) -> Outcome:
    """Writes the run's final status; returns the outcome, changed if that write failed."""
    # Stopped by a signal: the user waits, so a failing datastore gets a short retry budget.
    status_storage = (
        storage.with_retry_budget(STOPPING_RETRY_SECONDS) if outcome.status == "killed" else storage
    )
    try:
        write_status(status_storage, ir.name, run_id, outcome.status, outcome.reason, outcome.task_counts)
    except StorageError as exc:
        # The tasks' own records are already stored; only the run's final status is missing, so the
        # run reads as unfinished and `flowc resume` can continue it once the datastore is back.
        outcome = dataclasses.replace(
            outcome,
            status="failed" if outcome.status == "successful" else outcome.status,
            reason=f"could not record the run's final status in datastore {storage.url}: {exc}"
            + (f" (after: {outcome.reason})" if outcome.reason else ""),
            failed_task=outcome.failed_task or "(none)",
        )
    return outcome


@contextlib.contextmanager
def _signals_ignored() -> Iterator[None]:
    previous = {}
    try:
        for signum in STOP_SIGNALS:
            previous[signum] = signal.signal(signum, signal.SIG_IGN)
    except ValueError:  # not the main thread
        pass
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _open_run_id_file(path: str | None) -> Any:
    if not path:
        return None
    try:
        return open(path, "w", encoding="utf-8")  # closed by start_run, once the id is written
    except OSError as exc:
        raise LaunchError(f"cannot write the run id to --run-id-file {path}: {exc.strerror}") from None


def exit_code(outcome: Outcome) -> int:
    """0 successful, 1 failed, 130 killed."""
    return {"successful": 0, "killed": EXIT_KILLED}.get(outcome.status, 1)


def _final_message(
    console: Console, ir: FlowIR, run_id: str, outcome: Outcome, seconds: float, options: LaunchOptions
) -> None:
    pathspec = f"{ir.name}/{run_id}"
    counts = f"{outcome.tasks_run} task(s) run" + (
        f", {outcome.tasks_cloned} cloned" if outcome.tasks_cloned else ""
    )
    if outcome.status == "successful":
        console.event(f"Done: run {pathspec} succeeded in {seconds:.1f} s ({counts}).")
        return
    resume = options.resume_command or f"flowc resume {_shell_word(options.flow_path)}"
    resume += f" --origin-run-id {run_id}"
    if outcome.status == "killed":
        console.event(f"Run {pathspec} was killed: {outcome.reason} ({counts}).", error=True)
    else:
        task = outcome.failed_task or "?"
        console.event(f"Run {pathspec} failed: task {task} failed: {outcome.reason} ({counts}).", error=True)
    console.event(f"Fix the cause, then continue the run with: {resume}", error=True)


def _shell_word(text: str) -> str:
    import shlex

    return shlex.quote(text)
