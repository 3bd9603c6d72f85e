"""One policy on every target: retry delays, timeout backstops, the Kubernetes pod (CPU, memory,
`$` in env values), and what a target refuses instead of dropping (issue 13, issue 18 items 8, 9)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from flowc.attempts import TIMEOUT_BACKSTOP_SECONDS
from flowc.backends import load_backend
from flowc.backends.options import CompileOptions
from flowc.config import Settings, load_settings
from flowc.diagnostics import CompileError, Diagnostic
from flowc.frontend import build_ir
from tests.airflow.conftest import airflow_home
from tests.airflow.engine import AirflowHome

__all__ = ["airflow_home"]  # the session's Airflow home: the DAG file imports Airflow

HEADER = (
    "from flowc import FlowSpec, batch, environment, kubernetes, resources, retry, secrets, step, timeout\n"
)


def _settings(tmp_path: Path) -> Settings:
    return load_settings({"datastore": "s3://bucket/flowc"}, start=tmp_path, environ={})


def _flow(tmp_path: Path, body: str, name: str = "policy_flow.py") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + textwrap.dedent(body), encoding="utf-8")
    return path


def _compile(path: Path, target: str, **options: Any) -> str:
    ir = build_ir(path)
    return load_backend(target).compile(ir, _settings(path.parent), CompileOptions(**options))[0].text


def _line(path: Path, step: str) -> int:
    """The line of ``def step`` in ``path``: where a refusal of that step points."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, text in enumerate(lines, 1) if text.strip().startswith(f"def {step}("))


def _refusals(path: Path, target: str, **options: Any) -> list[Diagnostic]:
    with pytest.raises(CompileError) as caught:
        _compile(path, target, **options)
    return list(caught.value.diagnostics)


POLICY_FLOW = """
class PolicyFlow(FlowSpec):
    @retry(times=2, minutes_between_retries=0.5)
    @timeout(seconds=100)
    @resources(cpu=0.5, memory=1000)
    @environment(vars={"PRICE": "costs $(HOME) or $5"})
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def _argo_start(text: str) -> dict[str, Any]:
    document = yaml.safe_load(text)
    return next(t for t in document["spec"]["templates"] if t["name"] == "start")


def test_retry_waits_the_same_delay_on_every_target(tmp_path: Path) -> None:
    path = _flow(tmp_path, POLICY_FLOW)
    states = json.loads(_compile(path, "sfn"))["States"]
    (retrier,) = [r for r in states["start"]["Retry"] if r["ErrorEquals"] == ["States.TaskFailed"]]
    # Step Functions doubled the delay before each retry (BackoffRate 2); Metaflow's is constant.
    assert (retrier["IntervalSeconds"], retrier["BackoffRate"], retrier["MaxAttempts"]) == (30, 1.0, 2)
    argo = _argo_start(_compile(path, "argo"))
    assert argo["retryStrategy"]["backoff"] == {"duration": "30s", "factor": 1}
    for operator in ("local", "kubernetes"):
        dag = _compile(path, "airflow", operator=operator)
        assert "retry_delay=timedelta(seconds=30)" in dag
        assert "retry_exponential_backoff" not in dag


def test_timeout_backstop_is_the_same_margin_on_every_target(tmp_path: Path) -> None:
    path = _flow(tmp_path, POLICY_FLOW)
    limit = 100 + TIMEOUT_BACKSTOP_SECONDS
    states = json.loads(_compile(path, "sfn"))["States"]
    assert states["start"]["Parameters"]["Timeout"] == {"AttemptDurationSeconds": limit}
    assert _argo_start(_compile(path, "argo"))["activeDeadlineSeconds"] == limit
    for operator in ("local", "kubernetes"):
        assert f"execution_timeout=timedelta(seconds={limit})" in _compile(path, "airflow", operator=operator)


def test_kubernetes_targets_give_the_same_pod(tmp_path: Path) -> None:
    path = _flow(tmp_path, POLICY_FLOW)
    argo = _argo_start(_compile(path, "argo"))
    resources = {"requests": {"cpu": "500m", "memory": "1000Mi"}, "limits": {"memory": "1000Mi"}}
    assert argo["container"]["resources"] == resources
    env = {e["name"]: e["value"] for e in argo["container"]["env"]}
    assert env["PRICE"] == "costs $$(HOME) or $$5"
    dag = _compile(path, "airflow", operator="kubernetes")
    # Airflow wrote CPU as "0.5" and left `$(HOME)` for Kubernetes to expand.
    assert (
        "container_resources=k8s.V1ResourceRequirements("
        f"requests={json.dumps(resources['requests'])}, limits={json.dumps(resources['limits'])})"
    ) in dag.replace("'", '"')
    assert '"PRICE": "costs $$(HOME) or $$5"' in dag


def test_airflow_pod_parameters_reach_the_task_unexpanded(tmp_path: Path, airflow_home: AirflowHome) -> None:
    # FLOWC_PARAMETERS is rendered at run time into a pod's env: its `$` must be doubled there too.
    path = _flow(
        tmp_path,
        """
        from flowc import Parameter

        class ParamFlow(FlowSpec):
            text = Parameter("text", default="x")

            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
        """,
    )
    namespace: dict[str, Any] = {"__name__": "flowc_dag_under_test"}
    # The DAG file as Airflow's DAG processor loads it (in the session's Airflow home): its runtime
    # and its data, together.
    exec(compile(_compile(path, "airflow", operator="kubernetes"), "ParamFlow.py", "exec"), namespace)
    rendered = namespace["flowc_parameters"]({"text": "a $(HOME) b"})
    assert json.loads(rendered.replace("$$", "$")) == {"text": "a $(HOME) b"}
    assert "$(HOME)" not in rendered.replace("$$", "")


def test_sfn_refuses_kubernetes_placement(tmp_path: Path) -> None:
    path = _flow(
        tmp_path,
        """
        class PlacedFlow(FlowSpec):
            @kubernetes(node_selector={"pool": "gpu"}, tolerations=[{"key": "gpu", "operator": "Exists"}])
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
        """,
    )
    (problem,) = _refusals(path, "sfn")
    assert (problem.code, problem.step, problem.line) == (
        "sfn-kubernetes-placement",
        "start",
        _line(path, "start"),
    )
    assert "node_selector=, tolerations=" in problem.message and "@batch" in problem.hint


@pytest.mark.parametrize("target, options", [("airflow", {"operator": "kubernetes"}), ("argo", {})])
def test_kubernetes_targets_refuse_batch_settings_and_aws_secrets(
    tmp_path: Path, target: str, options: dict[str, str]
) -> None:
    arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf"
    path = _flow(
        tmp_path,
        f"""
        class AwsFlow(FlowSpec):
            @batch(queue="gpu-queue", iam_role="arn:aws:iam::123456789012:role/r")
            @step
            def start(self):
                self.next(self.end)

            @secrets(sources=["{arn}"])
            @step
            def end(self):
                pass
        """,
    )
    problems = {(p.code, p.step, p.line) for p in _refusals(path, target, **options)}
    assert problems == {
        (f"{target}-batch-settings", "start", _line(path, "start")),
        (f"{target}-secret-name", "end", _line(path, "end")),
    }
    if target == "airflow":
        # The local operator runs no pods, so no pod setting is refused; but it has no secret
        # store of its own, so the bare ARN (the engine's store) is refused as unreadable.
        local = {(p.code, p.step) for p in _refusals(path, "airflow", operator="local")}
        assert local == {("secrets-no-provider", "end")}


def test_airflow_refuses_a_region_whose_steps_need_different_pods(tmp_path: Path) -> None:
    path = _flow(
        tmp_path,
        """
        class RegionFlow(FlowSpec):
            @step
            def start(self):
                self.count = 0
                self.next(self.first)

            @kubernetes(image="example.org/a:1")
            @step
            def first(self):
                self.next(self.second)

            @kubernetes(image="example.org/b:1", node_selector={"pool": "big"})
            @step
            def second(self):
                self.count += 1
                self.again = "yes" if self.count < 3 else "no"
                self.next({"yes": self.first, "no": self.end}, condition="again")

            @step
            def end(self):
                pass
        """,
    )
    (problem,) = _refusals(path, "airflow", operator="kubernetes")
    assert (problem.code, problem.step) == ("airflow-region-placement", "second")
    assert "image, node_selector" in problem.message and "'first'" in problem.message
    # Each step is its own pod on Argo, and the local operator runs no pods.
    _compile(path, "argo")
    _compile(path, "airflow", operator="local")


def test_a_refusal_names_the_file_of_an_inherited_step(tmp_path: Path) -> None:
    (tmp_path / "base_flow.py").write_text(
        HEADER
        + textwrap.dedent(
            """

            class BaseFlow(FlowSpec):
                @kubernetes(tolerations=[{"key": "gpu", "operator": "Exists"}])
                @step
                def start(self):
                    self.next(self.end)
            """
        ),
        encoding="utf-8",
    )
    path = _flow(
        tmp_path,
        """
        from base_flow import BaseFlow

        class ChildFlow(BaseFlow):
            @step
            def end(self):
                pass
        """,
    )
    (problem,) = _refusals(path, "sfn")
    base = tmp_path / "base_flow.py"
    assert (problem.step, Path(problem.file).name, problem.line) == ("start", base.name, _line(base, "start"))
