"""Apache Airflow target: one DAG file per flow, tasks run ``python -m flowc.task_runner``.

See docs/targets.md#airflow for what each construct becomes. ``CAPABILITIES`` and ``BACKEND``
follow :mod:`flowc.backends.base`.
"""

from __future__ import annotations

from flowc.backends.airflow.backend import AirflowBackend, compile_dag
from flowc.backends.airflow.capabilities import CAPABILITIES

__all__ = ["BACKEND", "CAPABILITIES", "compile_dag"]

BACKEND = AirflowBackend()
