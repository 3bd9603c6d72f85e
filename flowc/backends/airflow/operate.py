"""``flowc runs --target airflow`` and ``flowc terminate`` of an Airflow run, through the REST API v2.

A run ``airflow-<id>`` is the DAG run whose id :func:`flowc.backends.airflow.names.flowc_run_id`
maps to it, in one of the flow's DAGs (named after the flow, or ``<project>.<branch>.<Flow>``).
Terminating sets the DAG run's state to ``failed`` (``PATCH /api/v2/dags/{dag_id}/dagRuns/{run_id}``,
https://airflow.apache.org/docs/apache-airflow/stable/stable-rest-api-ref.html): Airflow marks its
running tasks failed (their processes are stopped) and its pending ones skipped. The run's note says
who ended it. A teardown task (flowc's ``flowc-finish``) is left to run, and when it has, Airflow
computes the run's state again from its leaves, which are skipped now: the run would end
``success``. So terminate waits for the run to end (:data:`TEARDOWN_SECONDS` at most) and sets it
``failed`` once more if it did not end so.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flowc.backends.airflow.names import flowc_run_id
from flowc.backends.airflow.trigger import AirflowApi, quote_segment
from flowc.backends.base import EngineRun, OperateError
from flowc.backends.options import EngineOptions
from flowc.config import Settings

__all__ = ["engine_runs", "terminate"]

FINISHED = ("success", "failed")
#: How long terminate waits for the teardown task to run before it sets the state again.
TEARDOWN_SECONDS = 300.0


def _api(settings: Settings, options: EngineOptions) -> AirflowApi:
    url = options.api_url or settings.get("airflow.api_url")
    if not url:
        raise OperateError("give --api-url or set airflow.api_url", 2)
    return AirflowApi(url, settings.get("airflow.token"))


def _dags(api: AirflowApi, flow_name: str, options: EngineOptions) -> list[str]:
    if options.dag_id:
        return [options.dag_id]
    found = api.request("GET", f"/api/v2/dags?dag_id_pattern={quote_segment(flow_name)}&limit=1000")
    return [
        dag["dag_id"]
        for dag in found.get("dags") or []
        if dag["dag_id"] == flow_name or dag["dag_id"].endswith(f".{flow_name}")
    ]


def _dag_runs(api: AirflowApi, dag: str) -> Iterator[dict[str, Any]]:
    offset = 0
    while True:
        page = api.request("GET", f"/api/v2/dags/{quote_segment(dag)}/dagRuns?limit=100&offset={offset}")
        runs = page.get("dag_runs") or []
        yield from runs
        offset += len(runs)
        if not runs or offset >= int(page.get("total_entries") or 0):
            return


def engine_runs(flow_name: str, settings: Settings, options: EngineOptions) -> list[EngineRun]:
    api = _api(settings, options)
    try:
        return [
            EngineRun(
                flowc_run_id(run["dag_run_id"]),
                str(run["state"]),
                run.get("start_date") or run.get("queued_at"),
                run["state"] in FINISHED,
            )
            for dag in _dags(api, flow_name, options)
            for run in _dag_runs(api, dag)
        ]
    except (RuntimeError, OSError) as exc:
        raise OperateError(str(exc)) from None


def terminate(flow_name: str, run_id: str, settings: Settings, options: EngineOptions) -> str:
    from flowc.metadata import current_user

    api = _api(settings, options)
    try:
        for dag in _dags(api, flow_name, options):
            for run in _dag_runs(api, dag):
                if flowc_run_id(run["dag_run_id"]) != run_id:
                    continue
                if run["state"] in FINISHED:
                    raise OperateError(f"DAG run {run['dag_run_id']} has already ended ({run['state']})")
                note = f"terminated by {current_user()} (flowc terminate)"
                path = f"/api/v2/dags/{quote_segment(dag)}/dagRuns/{quote_segment(run['dag_run_id'])}"
                api.request("PATCH", path, {"state": "failed", "note": note})
                if api.wait(dag, run["dag_run_id"], timeout=TEARDOWN_SECONDS) != "failed":
                    api.request("PATCH", path, {"state": "failed"})
                return f"DAG run {dag}/{run['dag_run_id']}: state failed"
    except (RuntimeError, OSError) as exc:
        raise OperateError(str(exc)) from None
    raise OperateError(f"no DAG run of {flow_name} has run id {run_id}")
