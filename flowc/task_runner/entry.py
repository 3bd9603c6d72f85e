"""The command line entry point, callable in-process (a forked child) or as ``python -m``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["main"]


def main(argv: Sequence[str], flow: Any = None, storage: Any = None, supervised: bool = False) -> int:
    """Parses the task runner's argv and runs the task; returns the exit code.

    Args:
        argv: the arguments after ``python -m flowc.task_runner``.
        flow: a :class:`~flowc.task_runner.loading.LoadedFlow` loaded before forking (optional).
        storage: an open datastore (optional; must be safe to use after ``fork``).
        supervised: run the task in a child and judge it by its records (``python -m``: see
            :mod:`flowc.task_runner.supervise`).
    """
    from flowc.task_runner.lifetime import die_with_runtime
    from flowc.task_runner.spec import parse_argv

    with_runtime = die_with_runtime()
    try:
        spec = parse_argv(argv)
    except SystemExit as exc:  # argparse printed the problem (or --help)
        return int(exc.code or 0)
    spec = _with_resume_from_environment(spec)
    if spec is None:
        return 2
    from flowc.task_runner.runner import run_task

    if supervised:  # a process of its own: it may still have to enter the step's @pypi environment
        from flowc.task_runner.environment import enter_step_environment

        enter_step_environment(spec, "flowc.task_runner", argv)
    if not supervised:
        return run_task(spec, flow=flow, storage=storage, owns_process=True)
    from flowc.task_runner.supervise import supervise

    # An engine's task uploads its output as it runs; under the local runtime, the runtime keeps it.
    live_logs = not with_runtime
    return supervise(
        spec,
        lambda: run_task(spec, flow=flow, storage=storage, owns_process=True, live_logs=live_logs),
        with_runtime=with_runtime,
    )


def _with_resume_from_environment(spec: Any) -> Any:
    """``spec`` with ``resume`` from ``FLOWC_RESUME`` when its argv gave none (taken out of the
    environment, so the step's own processes do not see it); None after saying why it is bad."""
    import argparse
    import dataclasses
    import os
    import sys

    from flowc.task_runner.spec import RESUME_ENVIRONMENT, check_resume

    given = os.environ.pop(RESUME_ENVIRONMENT, "")
    if spec.resume or not given:
        return spec
    try:
        return dataclasses.replace(spec, resume=check_resume(given))
    except (ValueError, argparse.ArgumentTypeError) as exc:
        sys.stderr.write(f"flowc: {RESUME_ENVIRONMENT}={given!r}: {exc}\n")
        return None
