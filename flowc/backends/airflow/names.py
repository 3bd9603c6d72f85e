"""Names on Airflow: the DAG id (with ``@project``) and the flowc run id of an Airflow DAG run.

The DAG file carries its own copy of :func:`flowc_run_id` (the scheduler never imports flowc);
``tests/airflow`` checks that the two agree.
"""

from __future__ import annotations

import hashlib
import re

from flowc.config import Settings
from flowc.ir import FlowIR
from flowc.project_branches import project_branch

__all__ = ["RUN_ID_PREFIX", "dag_id", "flowc_run_id"]

RUN_ID_PREFIX = "airflow-"
_DAG_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
_RUN_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def dag_id(ir: FlowIR, settings: Settings) -> str:
    """The flow's name, or ``<project>.<branch>.<Flow>`` under ``@project``.

    Airflow DAG ids allow letters, digits, ``_``, ``.`` and ``-`` (at most 250 characters); other
    characters become ``_``.
    """
    name = ir.name if ir.project is None else f"{ir.project.name}.{project_branch(settings).name}.{ir.name}"
    safe = _DAG_ID_UNSAFE.sub("_", name)
    if len(safe) > 250:
        safe = safe[:241] + "_" + hashlib.sha256(name.encode()).hexdigest()[:8]
    return safe


def flowc_run_id(airflow_run_id: str) -> str:
    """``airflow-`` + the DAG run id made path-safe.

    ``manual__2026-01-01T00:00:00+00:00`` has ``:`` and ``+``; they become ``-``, and because two
    ids could then meet, a changed id gets 8 hex digits of its SHA-256 appended.
    """
    safe = _RUN_ID_UNSAFE.sub("-", airflow_run_id)
    if safe != airflow_run_id or len(safe) > 100:
        safe = safe[:100] + "-" + hashlib.sha256(airflow_run_id.encode("utf-8")).hexdigest()[:8]
    return RUN_ID_PREFIX + safe
