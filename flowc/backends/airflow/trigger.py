"""``flowc trigger FLOW --target airflow``: start a DAG run through Airflow's REST API (v2).

``POST /api/v2/dags/{dag_id}/dagRuns`` (https://airflow.apache.org/docs/apache-airflow/stable/stable-rest-api-ref.html);
Airflow validates the ``conf`` against the DAG's params, so a missing required parameter is
refused here, before anything runs. Values typed on the command line are converted to the
parameter's type first: from the flow file when FLOW is one, else from the DAG's own param schemas.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from flowc.backends.airflow.dag_params import coerce_parameters, run_conf
from flowc.backends.airflow.names import dag_id, flowc_run_id
from flowc.backends.options import TriggerOptions
from flowc.config import Settings

__all__ = ["AirflowApi", "AirflowApiError", "quote_segment", "trigger"]

FINISHED = ("success", "failed")


class AirflowApiError(RuntimeError):
    """The API answered with an HTTP error (``status``)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class AirflowApi:
    """A minimal client of the Airflow REST API v2 (standard library only)."""

    def __init__(self, base_url: str, token: str | None = None, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def request(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")
            raise AirflowApiError(
                f"Airflow API {method} {path}: HTTP {exc.code}: {detail}", exc.code
            ) from None

    def trigger(self, dag: str, conf: Mapping[str, Any]) -> dict[str, Any]:
        quoted = urllib.parse.quote(dag, safe="")
        body = {"logical_date": None, "conf": dict(conf)}
        return self.request("POST", f"/api/v2/dags/{quoted}/dagRuns", body)

    def dag_run(self, dag: str, run_id: str) -> dict[str, Any]:
        return self.request("GET", f"/api/v2/dags/{quote_segment(dag)}/dagRuns/{quote_segment(run_id)}")

    def task_instances(self, dag: str, run_id: str) -> list[dict[str, Any]]:
        path = f"/api/v2/dags/{quote_segment(dag)}/dagRuns/{quote_segment(run_id)}/taskInstances"
        found = self.request("GET", f"{path}?limit=1000")
        return found["task_instances"]

    def param_types(self, dag: str) -> dict[str, Any]:
        details = self.request("GET", f"/api/v2/dags/{quote_segment(dag)}/details")
        params = details.get("params") or {}
        return {name: (spec.get("schema") or {}).get("type") for name, spec in params.items()}

    def wait(
        self,
        dag: str,
        run_id: str,
        timeout: float = 600.0,
        poll: float = 1.0,
        each: Callable[[], object] | None = None,
    ) -> str:
        """The run's state once it has finished (or ``timeout`` passed); ``each()`` after every poll."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.dag_run(dag, run_id)["state"]
            if each is not None:
                each()
            if state in FINISHED or time.monotonic() > deadline:
                return state
            time.sleep(poll)


def quote_segment(text: str) -> str:
    return urllib.parse.quote(text, safe="")


def trigger(flow: str, settings: Settings, options: TriggerOptions) -> int:
    """Starts a run; prints the Airflow run id and the flowc run id. Returns 0, 1 or 2 (bad input)."""
    url = options.api_url or settings.get("airflow.api_url")
    if not url:
        print("flowc: give --api-url or set airflow.api_url", file=sys.stderr)
        return 2
    api = AirflowApi(url, settings.get("airflow.token"))
    raw = dict(options.params)
    try:
        if flow.endswith(".py") and Path(flow).is_file():
            from flowc.frontend import build_ir

            ir = build_ir(flow)
            dag = options.dag_id or dag_id(ir, settings)
            conf = coerce_parameters(ir, raw)
            flow_name = ir.name
        else:
            dag = options.dag_id or flow
            flow_name = dag.rsplit(".", 1)[-1]
            conf = _typed_by_schema(raw, api.param_types(dag))
        run = api.trigger(dag, run_conf(conf, str(settings["datastore"]), options.tags, options.resume))
    except AirflowApiError as exc:
        if exc.status != 404:
            print(f"flowc: {exc}", file=sys.stderr)
        else:  # a DAG file deploy just wrote is unknown until the dag-processor has parsed it
            print(
                f"flowc: Airflow has no DAG {dag!r} (after flowc deploy, the dag-processor parses a "
                "new DAG file within its dag_processor.refresh_interval: try again then)",
                file=sys.stderr,
            )
        return 1
    except (ValueError, RuntimeError, OSError) as exc:
        print(f"flowc: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, ValueError) else 1
    run_id = run["dag_run_id"]
    print(f"dag id: {dag}")
    print(f"airflow run id: {run_id}")
    print(f"flowc run id: {flowc_run_id(run_id)}")
    if options.wait:
        from flowc.client.follow import RunLogStream

        state = api.wait(
            dag, run_id, each=RunLogStream(str(settings["datastore"]), flow_name, flowc_run_id(run_id))
        )
        print(f"state: {state}")
        return 0 if state == "success" else 1
    return 0


def _typed_by_schema(raw: Mapping[str, str], types: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, text in raw.items():
        if name not in types:
            raise ValueError(f"unknown parameter {name!r}; the DAG has: {', '.join(sorted(types)) or 'none'}")
        kinds = types[name] if isinstance(types[name], list) else [types[name]]
        values[name] = _convert(name, text, kinds)
    return values


def _convert(name: str, text: str, kinds: list[Any]) -> Any:
    if "integer" in kinds:
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"parameter {name!r}: {text!r} is not an integer") from None
    if "number" in kinds:
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"parameter {name!r}: {text!r} is not a number") from None
    if "boolean" in kinds:
        lowered = text.strip().lower()
        if lowered not in ("true", "false", "1", "0", "yes", "no"):
            raise ValueError(f"parameter {name!r}: {text!r} is not a boolean")
        return lowered in ("true", "1", "yes")
    return text
