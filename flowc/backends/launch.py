"""How a deployed task starts: the one command prefix every target gives its containers.

With setting ``bootstrap`` on (the default), a task starts as
``python -c 'import os;exec(os.environ["FLOWC_BOOTSTRAP_SOURCE"])' flowc.task_runner ARGS`` and its
environment carries the fixed bootstrap program (:mod:`flowc.task_runner.bootstrap`), which fetches
the code package (flowc included) and boto3 if the image lacks it: any image with Python 3.11+ runs
the flow, the default ``python:3.11-slim`` included. With ``bootstrap`` off the image must have flowc
installed, and a task starts as ``python -m flowc.task_runner ARGS``. Either way the argv is the
task runner's own short one; each target decides only where the bootstrap's text travels (once per
document or deployment, never per task).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flowc.config import Settings

__all__ = ["TaskLaunch", "task_launch"]


@dataclass(frozen=True)
class TaskLaunch:
    """The command prefix of every task and what the tasks' environment must hold for it.

    Attributes:
        prefix: the words before the module name (``python -c ...`` or ``python -m``).
        environment: variables every task needs (the bootstrap's text; empty for ``python -m``).
    """

    prefix: tuple[str, ...]
    environment: Mapping[str, str] = field(default_factory=dict)

    def command(self, module: str = "flowc.task_runner") -> list[str]:
        """The command of a task running ``module`` (its arguments follow)."""
        return [*self.prefix, module]


def task_launch(settings: Settings, from_package: bool = True) -> TaskLaunch:
    """How tasks start under ``settings`` (``bootstrap``: see the module docstring).

    Args:
        settings: effective configuration.
        from_package: whether the tasks start from a code package (``--package``); a document
            compiled for a flow file (``--source``) runs only where flowc and the file already are.
    """
    from flowc.task_runner.bootstrap import BOOTSTRAP_ENV, BOOTSTRAP_SOURCE, LAUNCHER, MODULE_LAUNCHER

    if from_package and settings.get("bootstrap"):
        return TaskLaunch(LAUNCHER, {BOOTSTRAP_ENV: BOOTSTRAP_SOURCE})
    return TaskLaunch(MODULE_LAUNCHER)
