"""The Argo DAG interpreter itself: each semantic it implements, on small hand-written documents."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.argo.executor import ArgoExecutor, ExecutionError
from tests.argo.expr import ExpressionError, evaluate, go_format


def _py(name: str, code: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "container": {"image": "x", "command": ["python", "-c", code]}, **extra}


def _emit(name: str, value: str) -> dict[str, Any]:
    """A template whose output parameter ``out`` is ``value``, passed via argv and a file."""
    return {
        "name": name,
        "container": {
            "image": "x",
            "command": [
                "python",
                "-c",
                "import sys; open(sys.argv[2],'w').write(sys.argv[1])",
                value,
                "/tmp/out.txt",
            ],
        },
        "outputs": {"parameters": [{"name": "out", "valueFrom": {"path": "/tmp/out.txt"}}]},
    }


def _run(tmp_path: Path, templates: list, tasks: list, **kwargs: Any):
    document = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": "t-"},
        "spec": {"entrypoint": "main", "templates": [{"name": "main", "dag": {"tasks": tasks}}, *templates]},
    }
    return ArgoExecutor(document, workdir=tmp_path, workflow_name="wf", **kwargs).run()


OK = _py("ok", "pass")
FAIL = _py("fail", "raise SystemExit(3)")


def test_depends_on_a_failure_result_and_omitted_tasks(tmp_path: Path) -> None:
    result = _run(
        tmp_path,
        [OK],
        [
            {"name": "a", "template": "ok", "when": "false"},
            {"name": "b", "template": "ok", "depends": "a.Succeeded"},  # a skipped: b omitted
            {"name": "c", "template": "ok", "depends": "a"},  # bare name accepts Skipped
            {"name": "d", "template": "ok", "depends": "b.Succeeded || c.Succeeded"},
        ],
    )
    phases = {n.path: n.phase for n in result.nodes}
    assert phases == {
        "main.a": "Skipped",
        "main.b": "Omitted",
        "main.c": "Succeeded",
        "main.d": "Succeeded",
        "main": "Succeeded",
    }


def test_fail_fast_stops_new_tasks_and_fails_the_dag(tmp_path: Path) -> None:
    result = _run(
        tmp_path,
        [OK, FAIL],
        [{"name": "a", "template": "fail"}, {"name": "b", "template": "ok", "depends": "a"}],
    )
    assert result.phase == "Failed"
    assert [n.path for n in result.nodes if n.path != "main"] == ["main.a"]


def test_with_sequence_count_from_an_output_parameter_and_item(tmp_path: Path) -> None:
    echo = _py(
        "echo",
        "import sys; open('{{inputs.parameters.i}}.done','w')",
        inputs={"parameters": [{"name": "i"}]},
    )
    result = _run(
        tmp_path,
        [_emit("count", '{"num_splits": 3}'), echo],
        [
            {"name": "n", "template": "count"},
            {
                "name": "fan",
                "template": "echo",
                "depends": "n.Succeeded",
                "withSequence": {
                    "count": "{{=asInt(jsonpath(tasks['n'].outputs.parameters.out, '$.num_splits'))}}"
                },
                "arguments": {"parameters": [{"name": "i", "value": "{{item}}"}]},
            },
        ],
    )
    assert result.phase == "Succeeded"
    assert sorted(n.path for n in result.containers()) == [
        "main.fan(0)",
        "main.fan(1)",
        "main.fan(2)",
        "main.n",
    ]


def test_reading_outputs_of_a_skipped_task_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ExecutionError, match="cannot fetch parameters from nil"):
        _run(
            tmp_path,
            [_emit("e", "{}"), OK],
            [
                {"name": "a", "template": "e", "when": "false"},
                {
                    "name": "b",
                    "template": "ok",
                    "depends": "a",
                    "when": "{{=jsonpath(tasks['a'].outputs.parameters.out, '$.x') == 1}}",
                },
            ],
        )


def test_only_ancestors_are_in_scope(tmp_path: Path) -> None:
    with pytest.raises(ExecutionError, match="unresolved reference"):
        _run(
            tmp_path,
            [_emit("e", "v"), _py("take", "pass", inputs={"parameters": [{"name": "p"}]})],
            [
                {"name": "a", "template": "e"},
                {
                    "name": "b",
                    "template": "take",
                    "arguments": {
                        "parameters": [{"name": "p", "value": "{{tasks.a.outputs.parameters.out}}"}]
                    },
                },
            ],
        )


def test_retry_numbers_attempts_and_backs_off(tmp_path: Path) -> None:
    flaky = _py(
        "flaky",
        "import sys; sys.exit(0 if '{{retries}}' == '2' else 1)",
        retryStrategy={"limit": 3, "retryPolicy": "Always", "backoff": {"duration": "1s", "factor": 1}},
    )
    started = time.monotonic()
    result = _run(tmp_path, [flaky], [{"name": "a", "template": "flaky"}])
    assert result.phase == "Succeeded" and result.node("main.a").attempts == 3
    assert time.monotonic() - started >= 2.0


def test_active_deadline_kills_the_pod(tmp_path: Path) -> None:
    slow = _py("slow", "import time; time.sleep(30)", activeDeadlineSeconds=1)
    started = time.monotonic()
    result = _run(tmp_path, [slow], [{"name": "a", "template": "slow"}])
    assert result.phase == "Failed" and "deadline" in result.node("main.a").message
    assert time.monotonic() - started < 10


def test_raw_artifact_secrets_and_required_inputs(tmp_path: Path) -> None:
    code = (
        "import os, sys; assert open(sys.argv[1]).read() == sys.argv[2], open(sys.argv[1]).read(); "
        "assert os.environ['K'] == 'v'"
    )
    check = {
        "name": "check",
        "container": {
            "image": "x",
            "command": ["python", "-c", code, "/tmp/p.json", '{"a":"x\\"y"}'],
            "envFrom": [{"secretRef": {"name": "s"}}],
        },
        "inputs": {
            "artifacts": [{"name": "p", "path": "/tmp/p.json", "raw": {"data": "{{=toJson({'a': 'x\"y'})}}"}}]
        },
    }
    result = _run(tmp_path, [check], [{"name": "a", "template": "check"}], secrets={"s": {"K": "v"}})
    assert result.phase == "Succeeded", result.message
    missing = _run(tmp_path / "2", [check], [{"name": "a", "template": "check"}], secrets={})
    assert missing.phase == "Failed" and "secret 's' not found" in missing.node("main.a").message
    with pytest.raises(ExecutionError, match="was not supplied"):
        _run(
            tmp_path / "3",
            [_py("needs", "pass", inputs={"parameters": [{"name": "x"}]})],
            [{"name": "a", "template": "needs"}],
        )


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("asInt(jsonpath(c, '$.n'))", 1000000),
        ("jsonpath(c, '$.s') == 'a' || false", True),
        ("tasks['x'].status == 'Succeeded' ? 1 : 2", 2),
        ("toJson({'b': 'q', 'a': c2})", '{"a":"2","b":"q"}'),
    ],
)
def test_expressions(expression: str, expected: Any) -> None:
    scope = {"c": '{"n": 1000000, "s": "a"}', "c2": "2", "tasks.x.status": "Skipped"}
    assert evaluate(expression, scope) == expected


def test_go_formatting_is_why_counts_need_asint() -> None:
    assert go_format(evaluate("jsonpath(c, '$.n')", {"c": '{"n": 1000000}'})) == "1e+06"
    assert go_format(evaluate("asInt(jsonpath(c, '$.n'))", {"c": '{"n": 1000000}'})) == "1000000"
    with pytest.raises(ExpressionError):
        evaluate("unknown_name == 1", {})
