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

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from flowc.ids import argument, check_flow_name, check_run_id, check_step_name, check_tag

__all__ = ["RegionSpec", "main", "parse_args", "run_region"]

#: Exit code of a bad command line (docs/architecture.md: 2 = bad input).
BAD_INPUT = 2


@dataclass(frozen=True)
class RegionSpec:
    """What one region run needs: the loop's steps, where to enter it and the shared task options."""

    flow: str
    run_id: str
    entry: str
    iteration: int
    steps: tuple[str, ...]
    retries: Mapping[str, tuple[int, float]]
    common: tuple[str, ...]  # task-runner options every step gets (--index, --source, --datastore, --tag)
    control_file: str | None = None


def parse_args(argv: Sequence[str]) -> RegionSpec:
    parser = argparse.ArgumentParser(prog="python -m flowc.task_runner.region", description=__doc__)
    parser.add_argument("--flow", required=True, type=argument(check_flow_name))
    parser.add_argument("--run-id", required=True, type=argument(check_run_id))
    parser.add_argument(
        "--entry", required=True, type=argument(check_step_name), help="the step the loop is entered at"
    )
    parser.add_argument("--iteration", type=int, default=0, help="the entry step's iteration")
    parser.add_argument("--steps", required=True, help="the loop's steps, comma-separated")
    parser.add_argument("--retry", action="append", default=[], metavar="STEP=TIMES:SECONDS")
    parser.add_argument("--index")
    parser.add_argument("--source")
    parser.add_argument("--package")
    parser.add_argument("--datastore")
    parser.add_argument("--control-file")
    parser.add_argument("--tag", action="append", default=[], type=argument(check_tag))
    args = parser.parse_args(argv)
    steps = tuple(s for s in args.steps.split(",") if s)
    if args.entry not in steps:
        parser.error(f"--entry {args.entry!r} is not one of --steps {','.join(steps)}")
    retries: dict[str, tuple[int, float]] = {}
    for rule in args.retry:
        name, _, spec = rule.partition("=")
        times, _, seconds = spec.partition(":")
        try:
            retries[name] = (int(times), float(seconds or 0))
        except ValueError:
            parser.error(f"--retry {rule!r}: expected STEP=TIMES:SECONDS")
    common: list[str] = []
    for option in ("index", "source", "package", "datastore"):
        value = getattr(args, option)
        if value is not None:
            common += [f"--{option}", value]
    for tag in args.tag:
        common += ["--tag", tag]
    return RegionSpec(
        flow=args.flow,
        run_id=args.run_id,
        entry=args.entry,
        iteration=args.iteration,
        steps=steps,
        retries=retries,
        common=tuple(common),
        control_file=args.control_file,
    )


def _run_task(spec: RegionSpec, step: str, iteration: int, scratch: str) -> tuple[int, dict | None]:
    """One task-runner process (with the step's retries); (exit code, control record)."""
    times, seconds = spec.retries.get(step, (0, 0.0))
    control_file = os.path.join(scratch, f"{step}.{iteration}.json")
    argv = [
        sys.executable, "-m", "flowc.task_runner", "--flow", spec.flow, "--step", step,
        "--run-id", spec.run_id, "--iteration", str(iteration), *spec.common, "--control-file", control_file,
    ]  # fmt: skip
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


def run_region(spec: RegionSpec) -> int:
    """Runs the loop until a step's control record leaves it; returns the exit code."""
    step, iteration = spec.entry, spec.iteration
    with tempfile.TemporaryDirectory(prefix="flowc-region-") as scratch:
        while True:
            print(f"flowc region: {step} at iteration {iteration}", file=sys.stderr, flush=True)
            code, control = _run_task(spec, step, iteration, scratch)
            if control is None:
                return code
            following = control.get("next") or []
            if len(following) != 1:
                print(f"flowc region: step {step!r} went to {following}; a loop continues to one step",
                      file=sys.stderr)  # fmt: skip
                return BAD_INPUT
            if following[0] not in spec.steps:
                break
            step, iteration = following[0], int(control.get("next_iteration", iteration))
    text = json.dumps(control, sort_keys=True)
    if spec.control_file:
        with open(spec.control_file, "w", encoding="utf-8") as handle:
            handle.write(text)
    print(f"FLOWC_CONTROL {text}", flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_region(parse_args(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    sys.exit(main())
