"""The task runner: runs one task of one step (``python -m flowc.task_runner``; see
docs/architecture.md). In-process entry points for launchers:

* :func:`main` ``(argv, flow=None) -> exit code``: the command line, for a forked child;
* :func:`run_task` ``(TaskSpec, flow=None, storage=None) -> exit code``;
* :func:`load_flow` ``(path, flow_name) -> LoadedFlow``: load once, pass to every task.

Names resolve lazily so that ``python -m flowc.task_runner --help`` imports almost nothing.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "CONTROL_PREFIX",
    "LoadedFlow",
    "TaskSpec",
    "format_argv",
    "load_flow",
    "main",
    "parse_argv",
    "run_task",
]

_EXPORTS = {
    "CONTROL_PREFIX": "flowc.control",
    "run_task": "flowc.task_runner.runner",
    "LoadedFlow": "flowc.task_runner.loading",
    "load_flow": "flowc.task_runner.loading",
    "TaskSpec": "flowc.task_runner.spec",
    "format_argv": "flowc.task_runner.spec",
    "parse_argv": "flowc.task_runner.spec",
    "main": "flowc.task_runner.entry",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'flowc.task_runner' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(__all__)
