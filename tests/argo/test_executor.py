"""The Argo DAG interpreter itself: each semantic it implements, on small hand-written documents."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from tests.argo.executor import ArgoExecutor, ExecutionError, _backoff_seconds
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
    strategy = {"limit": 3, "retryPolicy": "Always", "backoff": {"duration": "1s", "factor": 1}}
    flaky = _py("flaky", "import sys; sys.exit(0 if '{{retries}}' == '2' else 1)", retryStrategy=strategy)
    result = _run(tmp_path, [flaky], [{"name": "a", "template": "flaky"}])
    assert result.phase == "Succeeded" and result.node("main.a").attempts == 3
    # The wait before each retry (factor 1: constant); the wall time is bench's, not a test's.
    assert [_backoff_seconds(strategy, attempt) for attempt in range(3)] == [1.0, 1.0, 1.0]
    assert _backoff_seconds({"backoff": {"duration": "2s", "factor": 2}}, 2) == 8.0


def test_active_deadline_kills_the_pod(tmp_path: Path) -> None:
    slow = _py("slow", "import time; time.sleep(30)", activeDeadlineSeconds=1)
    result = _run(tmp_path, [slow], [{"name": "a", "template": "slow"}])
    assert result.phase == "Failed" and "deadline" in result.node("main.a").message


def test_the_workflow_deadline_stops_its_pods_and_the_exit_handler_still_runs(tmp_path: Path) -> None:
    slow = _py("slow", "import time; time.sleep(30)")
    record = _py("record", "open('status', 'w').write('{{workflow.status}}')")
    document = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": "t-"},
        "spec": {
            "entrypoint": "main",
            "activeDeadlineSeconds": 1,
            "onExit": "record",
            "templates": [
                {"name": "main", "dag": {"tasks": [{"name": "a", "template": "slow"}]}},
                slow,
                record,
            ],
        },
    }
    result = ArgoExecutor(document, workdir=tmp_path, workflow_name="wf").run()
    assert (result.phase, result.message) == ("Failed", "Max duration limit exceeded")
    assert result.node("main.a").phase == "Failed"
    [status] = [p / "status" for p in tmp_path.glob("pod-*") if (p / "status").exists()]
    assert status.read_text() == "Failed"


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


def _echo_to_file(name: str, text: str) -> dict[str, Any]:
    """A template writing ``text`` (after substitution) to ``out.txt`` in its working directory."""
    code = "import sys; open('out.txt', 'w').write(sys.argv[1])"
    return {"name": name, "container": {"image": "x", "command": ["python", "-c", code, text]}}


def test_text_a_pass_inserts_is_read_as_tags_by_the_next(tmp_path: Path) -> None:
    """Argo substitutes a pod three times (globals, inputs, the pod): a parameter value holding
    `{{workflow.name}}` is rewritten, and one holding a tag nothing resolves is an error."""
    document = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": "t-"},
        "spec": {
            "entrypoint": "main",
            "arguments": {"parameters": [{"name": "p"}]},
            "templates": [
                {"name": "main", "dag": {"tasks": [{"name": "a", "template": "show"}]}},
                _echo_to_file("show", "{{workflow.parameters.p}}"),
            ],
        },
    }

    def run(value: str, where: Path):
        executor = ArgoExecutor(document, workdir=where, workflow_name="wf", arguments={"p": value})
        return executor.run()

    result = run("name={{workflow.name}}", tmp_path / "1")
    assert result.phase == "Succeeded"
    assert (tmp_path / "1" / "pod-1" / "out.txt").read_text() == "name=wf"
    with pytest.raises(ExecutionError, match="unresolved or unclosed"):
        run("{{nothing.resolves.this}}", tmp_path / "2")


def test_kubernetes_expands_dollar_references_in_env_and_args(tmp_path: Path) -> None:
    code = "import os, sys; open('out.txt', 'w').write(os.environ['B'] + '|' + sys.argv[1])"
    template = {
        "name": "show",
        "container": {
            "image": "x",
            "command": ["python", "-c", code, "$(A)-$$(A)-$(NOPE)"],
            "env": [{"name": "A", "value": "x"}, {"name": "B", "value": "$(A)y$$z"}],
        },
    }
    result = _run(tmp_path, [template], [{"name": "a", "template": "show"}])
    assert result.phase == "Succeeded", result.message
    assert (tmp_path / "pod-1" / "out.txt").read_text() == "xy$z|x-$(A)-$(NOPE)"


def test_template_calls_nest_at_most_100_deep(tmp_path: Path) -> None:
    """Recursion is how Argo loops; the controller stops it at a depth of 100."""
    document = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": "t-"},
        "spec": {
            "entrypoint": "main",
            "templates": [
                {"name": "main", "dag": {"tasks": [{"name": "again", "template": "main"}]}},
            ],
        },
    }
    result = ArgoExecutor(document, workdir=tmp_path, workflow_name="wf").run()
    assert result.phase == "Failed"
    (deepest,) = [n for n in result.nodes if n.phase == "Error"]
    assert deepest.path.count(".again") == 100 and "Maximum recursion depth" in deepest.message


def test_a_dag_cannot_mix_depends_and_dependencies(tmp_path: Path) -> None:
    with pytest.raises(ExecutionError, match="both depends and dependencies"):
        _run(
            tmp_path,
            [OK],
            [
                {"name": "a", "template": "ok"},
                {"name": "b", "template": "ok", "depends": "a.Succeeded"},
                {"name": "c", "template": "ok", "dependencies": ["a"]},
            ],
        )


def test_retry_policy_on_failure_does_not_retry_errors(tmp_path: Path) -> None:
    """OnFailure (the default) retries a failed main container, not a pod that errored."""
    missing_secret = _py(
        "needs-secret",
        "pass",
        retryStrategy={"limit": 2, "retryPolicy": "OnFailure"},
    )
    missing_secret["container"]["envFrom"] = [{"secretRef": {"name": "absent"}}]
    result = _run(tmp_path, [missing_secret], [{"name": "a", "template": "needs-secret"}])
    assert result.node("main.a").phase == "Error" and result.node("main.a").attempts == 1


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("'a\\u007d\\u007db'", "a}}b"),
        ("'it\\'s'", "it's"),
        ("'\\x41\\101\\n'", "AA\n"),
        ("'back\\\\slash'", "back\\slash"),
    ],
)
def test_string_literals_decode_as_expr_lang_does(literal: str, value: str) -> None:
    assert evaluate(literal, {}) == value


@pytest.mark.parametrize("literal", ["'raw\nbreak'", "'\\q'", "'\\u00'"])
def test_string_literals_expr_lang_rejects(literal: str) -> None:
    with pytest.raises(ExpressionError):
        evaluate(literal, {})


def test_replace_is_expr_langs_builtin() -> None:
    assert evaluate("replace('a{{b{{', '{{', '{')", {}) == "a{b{"


def test_a_task_skipped_by_when_still_may_not_read_outputs_of_a_task_that_did_not_run(
    tmp_path: Path,
) -> None:
    """Argo substitutes a task's arguments before it evaluates `when` (and 3.7.11+ fails there)."""
    take = _py("take", "pass", inputs={"parameters": [{"name": "p"}]})
    with pytest.raises(ExecutionError, match="cannot fetch parameters from nil"):
        _run(
            tmp_path,
            [_emit("e", "v"), take],
            [
                {"name": "a", "template": "e", "when": "false"},
                {
                    "name": "b",
                    "template": "take",
                    "depends": "a",
                    "when": "false",
                    "arguments": {
                        "parameters": [{"name": "p", "value": "{{=tasks['a'].outputs.parameters.out}}"}]
                    },
                },
            ],
        )


def test_omissions_cascade_whatever_the_order_of_the_task_names(tmp_path: Path) -> None:
    """An omitted task makes the tasks depending on it ready at once, with nothing running."""
    result = _run(
        tmp_path,
        [OK],
        [
            {"name": "z", "template": "ok", "when": "false"},
            {"name": "b", "template": "ok", "depends": "c.Succeeded"},
            {"name": "c", "template": "ok", "depends": "z.Succeeded"},
            {"name": "a", "template": "ok", "depends": "b.Succeeded || z.Skipped"},
        ],
    )
    phases = {n.path: n.phase for n in result.nodes}
    assert phases == {
        "main.z": "Skipped",
        "main.c": "Omitted",
        "main.b": "Omitted",
        "main.a": "Succeeded",
        "main": "Succeeded",
    }


def test_parallelism_bounds_the_pods_running_at_once(tmp_path: Path) -> None:
    stamp = _py("stamp", "import time; open('t', 'w').write(f'{time.time()} '); time.sleep(0.5); "
                "open('t', 'a').write(f'{time.time()}')")  # fmt: skip
    document = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": "t-"},
        "spec": {
            "entrypoint": "main",
            "parallelism": 1,
            "templates": [
                {"name": "main", "dag": {"tasks": [{"name": n, "template": "stamp"} for n in "abc"]}},
                stamp,
            ],
        },
    }
    assert ArgoExecutor(document, workdir=tmp_path, workflow_name="wf").run().phase == "Succeeded"
    spans = sorted(tuple(map(float, (p / "t").read_text().split())) for p in tmp_path.glob("pod-*"))
    assert len(spans) == 3
    assert all(earlier[1] <= later[0] for earlier, later in itertools.pairwise(spans))
