"""Back ends: one small package per target, each a pure function of the IR plus settings.

A target is looked up by name in :data:`TARGETS` and imported only when used, so ``flowc run``
never imports hera, boto3 or airflow. Every target module exposes ``CAPABILITIES`` (what it can
express, in one place that code, tests and docs read) and a ``BACKEND`` object following
:class:`flowc.backends.base.Backend`.
"""

from __future__ import annotations

import importlib

from flowc.backends.base import Backend

__all__ = ["ENGINE_TARGETS", "TARGETS", "load_backend", "target_of_run"]

#: target name -> module that defines ``BACKEND`` and ``CAPABILITIES``.
TARGETS = {
    "argo": "flowc.backends.argo",
    "sfn": "flowc.backends.sfn",
    "airflow": "flowc.backends.airflow",
}

#: engine (:data:`flowc.metadata.ENGINES`) -> the target whose runs it starts.
ENGINE_TARGETS = {"argo": "argo", "step-functions": "sfn", "airflow": "airflow"}


def target_of_run(run_id: str) -> str | None:
    """The target that started run ``run_id`` (its id's prefix says), or None for a local run."""
    from flowc.metadata import engine_of

    return ENGINE_TARGETS.get(engine_of(run_id, {}))


def load_backend(target: str) -> Backend:
    """The back end called ``target`` (ValueError naming the known targets otherwise)."""
    module = TARGETS.get(target)
    if module is None:
        raise ValueError(f"unknown target {target!r}: choose one of {', '.join(sorted(TARGETS))}")
    return importlib.import_module(module).BACKEND
