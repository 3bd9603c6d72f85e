"""Drives a loop's steps in sequence, one task-runner process per step and iteration.

Orchestrators whose graphs must be acyclic (Airflow) run a whole loop as one of their tasks::

    python -m flowc.task_runner.region --flow NAME --run-id RUN --entry STEP --iteration N
        --steps a,b,c [--retry STEP=TIMES:SECONDS ...] [--index 3,1]
        [--source FLOW.py | --package SHA256] [--datastore URL] [--control-file PATH] [--tag T ...]

It starts ``python -m flowc.task_runner`` for ``--entry`` at ``--iteration``, reads the task's control
record, and goes on with the step it names (at its ``next_iteration``) while that step is one of
``--steps``. The first control record that leaves the loop is the region's own: written to
``--control-file`` and printed as the last stdout line ``FLOWC_CONTROL <json>``. Every step is an
ordinary task, so task ids, attempts and artifacts are exactly those of ``flowc run``. A step's
``@retry`` is honoured here (``--retry``); the exit code of a step that still fails is the region's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace

from flowc.control import CONTROL_PREFIX, Field
from flowc.task_runner.spec import RegionSpec, format_argv, parse_region_argv

__all__ = ["main", "run_region"]

#: Exit code of a bad command line (docs/architecture.md: 2 = bad input).
BAD_INPUT = 2


def _run_task(region: RegionSpec, step: str, iteration: int, scratch: str) -> tuple[int, dict | None]:
    """One task-runner process (with the step's retries); (exit code, control record)."""
    times, seconds = next(((t, s) for name, t, s in region.retries if name == step), (0, 0.0))
    control_file = os.path.join(scratch, f"{step}.{iteration}.json")
    task = replace(
        region.task,
        address=replace(region.task.address, step=step, iteration=iteration),
        control_file=control_file,
    )
    argv = [sys.executable, "-m", "flowc.task_runner", *format_argv(task)]
    for attempt in range(times + 1):
        if attempt:
            time.sleep(seconds)
        code = subprocess.run(argv, check=False).returncode
        if code == 0:
            with open(control_file, encoding="utf-8") as handle:
                return 0, json.load(handle)
        if code == BAD_INPUT:
            break  # another attempt cannot fix bad input
    return code, None


def run_region(region: RegionSpec) -> int:
    """Runs the loop until a step's control record leaves it; returns the exit code."""
    step, iteration = region.task.address.step, int(region.task.address.iteration)
    with tempfile.TemporaryDirectory(prefix="flowc-region-") as scratch:
        while True:
            print(f"flowc region: {step} at iteration {iteration}", file=sys.stderr, flush=True)
            code, control = _run_task(region, step, iteration, scratch)
            if control is None:
                return code
            following = control.get(Field.NEXT) or []
            if len(following) != 1:
                print(f"flowc region: step {step!r} went to {following}; a loop continues to one step",
                      file=sys.stderr)  # fmt: skip
                return BAD_INPUT
            if following[0] not in region.steps:
                break
            step, iteration = following[0], int(control.get(Field.NEXT_ITERATION, iteration))
    text = json.dumps(control, sort_keys=True)
    if region.task.control_file:
        with open(region.task.control_file, "w", encoding="utf-8") as handle:
            handle.write(text)
    print(f"{CONTROL_PREFIX} {text}", flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_region(parse_region_argv(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    sys.exit(main())
