"""A tiny orchestrator for tests: runs a flow task by task, as an engine would, through the task
runner only (in-process ``run_task`` for speed, or ``python -m flowc.task_runner`` for the contract).

It knows nothing but the contract: the IR, task identities, argv, exit codes and control records.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from flowc.datastore import layout
from flowc.datastore.local import LocalStorage
from flowc.frontend import build_ir
from flowc.metadata import TaskAddress, read_task
from flowc.task_runner import TaskSpec, format_argv, load_flow, run_task

FLOWS = Path(__file__).resolve().parents[1] / "conformance" / "flows"
REPO = Path(__file__).resolve().parents[2]


@dataclass
class Outcome:
    """What happened: every task's exit codes (one per attempt) and the run's storage."""

    storage: LocalStorage
    flow: str
    run_id: str
    codes: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    outputs: dict[tuple[str, str], str] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        return all(codes[-1] == 0 for codes in self.codes.values()) and bool(self.codes)

    def task(self, step: str, task_id: str | None = None) -> dict[str, Any] | None:
        """The record of ``step``'s task ``task_id`` (default: its task outside any foreach and loop)."""
        task_id = task_id or layout.task_id(step)
        return read_task(
            self.storage, TaskAddress.from_task_id(flow=self.flow, run_id=self.run_id, task_id=task_id)
        )

    def artifacts(self, step: str, task_id: str | None = None) -> dict[str, Any]:
        from flowc.datastore.objects import ObjectStore

        record = self.task(step, task_id)
        assert record is not None, f"{step}/{task_id or step} did not succeed: {self.codes}"
        store = ObjectStore(self.storage)
        return {name: store.load_value(ref) for name, ref in record["artifacts"].items()}


#: The fields of ``spec_fields`` that name the task (its :class:`TaskAddress`); the rest are the spec's.
IDENTITY = ("flow", "run_id", "step", "index_path", "iteration")


def run_one(
    flow_file: Path,
    datastore: Path,
    spec_fields: Mapping[str, Any],
    subprocess_mode: bool = False,
    env: Mapping[str, str] | None = None,
    loaded: Any = None,
) -> tuple[int, str]:
    """Runs one task; returns (exit code, stdout when run as a subprocess else "")."""
    identity = {name: spec_fields[name] for name in IDENTITY if name in spec_fields}
    others = {name: value for name, value in spec_fields.items() if name not in IDENTITY}
    spec = TaskSpec(
        address=TaskAddress(**identity), source=str(flow_file), datastore=str(datastore), **others
    )
    if subprocess_mode:
        completed = subprocess.run(
            [sys.executable, "-m", "flowc.task_runner", *format_argv(spec)],
            capture_output=True,
            text=True,
            env={**os.environ, **(env or {})},
            cwd=REPO,
            timeout=120,
        )
        return completed.returncode, completed.stdout + completed.stderr
    return run_task(spec, flow=loaded), ""


def drive(
    flow_file: Path | str,
    datastore: Path,
    run_id: str = "r1",
    params: Mapping[str, Any] | None = None,
    subprocess_mode: bool = False,
    tmp: Path | None = None,
    resume: str | None = None,
) -> Outcome:
    """Runs the whole flow, retrying per ``@retry``; stops scheduling below a failed task.
    ``resume`` (``ORIGIN_RUN_ID[/STEP]``) is given to the start task, as an engine resuming in place does."""
    flow_file = Path(flow_file)
    if not flow_file.is_absolute():
        flow_file = FLOWS / flow_file
    ir = build_ir(flow_file)
    loaded = None if subprocess_mode else load_flow(flow_file, ir.name, ir=ir)
    storage = LocalStorage(datastore)
    outcome = Outcome(storage, ir.name, run_id)
    extra: dict[str, Any] = {}
    if params is not None:
        params_file = (tmp or datastore.parent) / f"params-{run_id}.json"
        params_file.write_text(json.dumps(params))
        extra["params_file"] = str(params_file)
    queue: deque[tuple[str, tuple[int, ...], int]] = deque([("start", (), 0)])
    arrived: dict[tuple[str, tuple[int, ...], int], int] = {}
    # a join runs at its split's iteration (loops inside the split's branches do not change it)
    split_iterations: dict[tuple[str, tuple[int, ...]], int] = {}
    while queue:
        step_name, path, iteration = queue.popleft()
        step = ir.step(step_name)
        task = layout.task_id(step_name, path, iteration)
        fields = {
            "flow": ir.name,
            "step": step_name,
            "run_id": run_id,
            "index_path": path,
            "iteration": iteration,
        }
        if step_name == "start":
            fields.update(extra, resume=resume)
        tries = 1 + (step.retry.times if step.retry else 0)
        codes = []
        for attempt in range(tries):
            code, output = run_one(
                flow_file, datastore, {**fields, "attempt": attempt}, subprocess_mode, loaded=loaded
            )
            codes.append(code)
            outcome.outputs[(step_name, task)] = output
            if code == 0:
                break
        outcome.codes[(step_name, task)] = codes
        if codes[-1] != 0:
            continue
        address = TaskAddress(
            flow=ir.name, run_id=run_id, step=step_name, index_path=path, iteration=iteration
        )
        control = read_task(storage, address)["control"]
        if step.transition in ("split", "foreach"):
            split_iterations[(step_name, path)] = iteration
        for target in control["next"]:
            successor = ir.step(target)
            next_iteration = control["next_iteration"]
            if control["transition"] == "foreach":
                queue.extend((target, (*path, i), next_iteration) for i in range(control["num_splits"]))
            elif successor.is_join:
                join_path = path[: successor.foreach_depth]
                split = ir.step(successor.split_of)
                next_iteration = split_iterations[(split.name, join_path)]
                key = (target, join_path, next_iteration)
                arrived[key] = arrived.get(key, 0) + 1
                if split.transition == "foreach":
                    split_task = replace(
                        address, step=split.name, index_path=join_path, iteration=next_iteration
                    )
                    split_record = read_task(storage, split_task)
                    expected = split_record["control"]["num_splits"]
                else:
                    expected = len(successor.predecessors)
                if arrived[key] == expected:
                    queue.append(key)
            else:
                queue.append((target, path, next_iteration))
    return outcome
