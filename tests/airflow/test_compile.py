"""Compiling flows to Airflow DAG files: golden files, determinism, refusals, the task plan."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowc.backends.airflow import compile_dag
from flowc.backends.airflow.capabilities import CAPABILITIES
from flowc.backends.airflow.dag_params import coerce_parameters, param_schema
from flowc.backends.airflow.names import dag_id, flowc_run_id
from flowc.backends.airflow.plan import plan_tasks
from flowc.backends.options import CompileOptions
from flowc.config import load_settings
from flowc.diagnostics import CompileError
from flowc.frontend import build_ir
from flowc.ir import ParameterSpec
from tests.airflow.golden import GOLDEN_DIR, OPERATORS, REPO, flow_files, golden_compile, golden_settings
from tests.helpers.golden import assert_golden

FLOWS = flow_files()
CONFORMANCE = REPO / "tests" / "conformance" / "flows"
FLOWS_DIR = Path(__file__).parent / "flows"


@pytest.mark.parametrize("operator", OPERATORS)
@pytest.mark.parametrize("flow", FLOWS, ids=[f.stem for f in FLOWS])
def test_golden_dag_file(flow: Path, operator: str, tmp_path: Path) -> None:
    compiled = golden_compile(flow, operator, tmp_path)
    assert_golden(GOLDEN_DIR / operator / compiled.name, compiled.text)


def test_output_is_deterministic_and_free_of_machine_paths(tmp_path: Path, monkeypatch) -> None:
    flow = CONFORMANCE / "nested_foreach_flow.py"
    first = golden_compile(flow, "local", tmp_path).text
    monkeypatch.chdir(tmp_path)
    second = golden_compile(flow, "local", tmp_path).text
    assert first == second
    for machine_path in (str(REPO), sys.executable, str(tmp_path)):
        assert machine_path not in first


def write_flow(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "shape_flow.py"
    path.write_text("from flowc import FlowSpec, Parameter, schedule, step\n\n" + body, encoding="utf-8")
    return path


SPLIT_IN_A_CASE = """
class ShapeFlow(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2]
        self.next(self.pick, foreach="items")

    @step
    def pick(self):
        self.way = "a" if self.input == 1 else "b"
        self.next({"a": self.a, "b": self.b}, condition="way")

    @step
    def a(self):
        self.next(self.a1, self.a2)

    @step
    def a1(self):
        self.next(self.ja)

    @step
    def a2(self):
        self.next(self.ja)

    @step
    def ja(self, inputs):
        self.next(self.meet)

    @step
    def b(self):
        self.next(self.meet)

    @step
    def meet(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass
"""

SPLIT_AFTER_A_LOOP = """
class ShapeFlow(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2]
        self.next(self.work, foreach="items")

    @step
    def work(self):
        self.count = getattr(self, "count", 0) + 1
        self.next(self.decide)

    @step
    def decide(self):
        self.state = "again" if self.count < self.input else "done"
        self.next({"again": self.work, "done": self.after}, condition="state")

    @step
    def after(self):
        self.next(self.p, self.q)

    @step
    def p(self):
        self.next(self.pq)

    @step
    def q(self):
        self.next(self.pq)

    @step
    def pq(self, inputs):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass
"""


@pytest.mark.parametrize(
    ("body", "step", "what"),
    [
        (SPLIT_IN_A_CASE, "a", "a switch inside a foreach"),
        (SPLIT_AFTER_A_LOOP, "after", "a loop inside a foreach"),
    ],
    ids=["split-in-a-case", "split-after-a-loop"],
)
def test_a_split_inside_a_foreach_region_is_refused_with_step_and_line(
    body: str, step: str, what: str, tmp_path: Path
) -> None:
    ir = build_ir(str(write_flow(tmp_path, body)))
    with pytest.raises(CompileError) as caught:
        compile_dag(ir, golden_settings(tmp_path))
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code == "unsupported-region-in-foreach"
    assert diagnostic.code in CAPABILITIES.limits  # so docs/targets.md's matrix lists it
    assert diagnostic.step == step
    assert diagnostic.line == ir.step(step).location.line
    assert what in diagnostic.message and "cannot contain a split" in diagnostic.message
    assert "shape_flow.py" in str(caught.value)


def test_a_switch_or_loop_inside_a_foreach_becomes_one_mapped_region_task() -> None:
    switch = plan_tasks(build_ir(str(FLOWS_DIR / "switch_in_foreach_flow.py")))
    region = switch.task("switch-pick")
    assert region.kind == "loop" and region.mapped_over == "start-fanout" and region.entry == "pick"
    assert region.steps == ("pick", "odd", "big", "small", "even")  # the nested switch too
    assert not [t for t in switch.tasks if t.kind == "choose"]  # no branch task skips a whole case
    assert switch.task("meet").upstream == ("start-fanout", "switch-pick")
    loop = plan_tasks(build_ir(str(FLOWS_DIR / "loop_in_nested_foreach_flow.py")))
    region = loop.task("loop-work")
    # Each index leaves the loop at its own iteration: the step after it runs in the same task.
    assert region.steps == ("work", "decide", "after") and region.mapped_over == "row-fanout"
    assert region.foreach_depth == 2 and region.entry == "work"
    assert loop.task("join_cols").upstream == ("loop-work", "start-fanout")


def test_schedule_with_a_required_parameter_is_refused(tmp_path: Path) -> None:
    flow = write_flow(
        tmp_path,
        """
@schedule(cron="0 * * * *")
class ShapeFlow(FlowSpec):
    who = Parameter("who", required=True)

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
""",
    )
    with pytest.raises(CompileError) as caught:
        compile_dag(build_ir(str(flow)), golden_settings(tmp_path))
    assert [(d.code, d.line) for d in caught.value.diagnostics] == [("scheduled-required-parameters", 4)]
    assert "who" in str(caught.value)


def test_unknown_operator_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CompileError, match="unknown Airflow operator"):
        ir = build_ir(str(CONFORMANCE / "linear_flow.py"))
        compile_dag(ir, golden_settings(tmp_path), CompileOptions(operator="docker"))


def test_nested_foreach_is_flattened_into_one_level_of_mapping() -> None:
    plan = plan_tasks(build_ir(str(CONFORMANCE / "nested_foreach_flow.py")))
    by_id = {t.task_id: t for t in plan.tasks}
    assert by_id["row"].mapped_over == "start-fanout"
    assert by_id["cell"].mapped_over == "row-fanout"  # one flat list of [row, col] paths
    assert by_id["row-fanout"].foreach_depth == 1 and by_id["row-fanout"].upstream == ("row",)
    assert by_id["join_cols"].mapped_over == "start-fanout"
    assert by_id["join_rows"].mapped_over is None and by_id["join_rows"].iteration_mode == "split"


def test_loop_becomes_one_task_and_switch_gets_a_branch_task() -> None:
    loop = plan_tasks(build_ir(str(CONFORMANCE / "loop_flow.py")))
    assert [(t.task_id, t.kind, t.steps) for t in loop.tasks] == [
        ("start", "step", ("start",)),
        ("loop-work", "loop", ("work", "decide")),
        ("end", "step", ("end",)),
        ("flowc-finish", "finish", ("end",)),
    ]
    assert loop.task("flowc-finish").upstream == ("end", "loop-work", "start")
    assert loop.task("end").iteration_sources == ("loop-work",)
    switch = plan_tasks(build_ir(str(CONFORMANCE / "switch_flow.py")))
    choose = switch.task("start-choose")
    assert choose.kind == "choose" and dict(choose.choices) == {"high": "high", "low": "low"}
    assert switch.task("high").upstream == ("start-choose",)
    assert switch.task("after").trigger_rule == "none_failed_min_one_success"
    assert switch.task("end").trigger_rule == "all_success"


def test_param_schemas_follow_parameter_types() -> None:
    assert param_schema(ParameterSpec("n", type="int", default=2, has_default=True)) == {
        "type": "integer",
        "default": 2,
    }
    required = param_schema(ParameterSpec("text", required=True, help="any text"))
    assert required == {"type": "string", "description": "any text"}  # no default: Airflow requires it
    assert "type" not in param_schema(ParameterSpec("cfg", type="json", default="{}", has_default=True))
    deferred = param_schema(ParameterSpec("later", type="float", deferred_default=True))
    assert deferred["type"] == ["number", "null"]


def test_trigger_values_are_typed_by_the_flow() -> None:
    ir = build_ir(str(CONFORMANCE / "parameters_flow.py"))
    values = coerce_parameters(ir, {"count": "7", "ratio": "0.25", "enabled": "True", "text": "$(x)"})
    assert values == {"count": 7, "ratio": 0.25, "enabled": True, "text": "$(x)"}
    with pytest.raises(ValueError, match="'count'"):
        coerce_parameters(ir, {"count": "seven"})
    with pytest.raises(ValueError, match="unknown parameter"):
        coerce_parameters(ir, {"nope": "1"})


def test_project_names_the_dag_after_project_and_branch(tmp_path: Path) -> None:
    ir = build_ir(str(Path(__file__).parent / "flows" / "decorated_flow.py"))
    assert dag_id(ir, golden_settings(tmp_path)) == "demo.test.golden.DecoratedFlow"
    production = golden_settings(tmp_path).with_overrides({"project.production": True})
    assert dag_id(ir, production) == "demo.prod.golden.DecoratedFlow"  # Metaflow: prod.<branch>
    production = load_settings({"project.production": True}, start=tmp_path, environ={})
    assert dag_id(ir, production) == "demo.prod.DecoratedFlow"


def test_run_ids_are_path_safe_and_distinct() -> None:
    assert flowc_run_id("nightly_1") == "airflow-nightly_1"
    first = flowc_run_id("manual__2026-01-01T00:00:00+00:00")
    second = flowc_run_id("manual__2026-01-01T00-00-00-00-00")
    assert first.startswith("airflow-manual__2026-01-01T00-00-00-00-00-") and first != second
    assert "/" not in flowc_run_id("a/b") and ":" not in first


def test_flowc_compile_command_writes_the_dag_file(tmp_path: Path, monkeypatch) -> None:
    from flowc.cli import main

    monkeypatch.chdir(tmp_path)
    output = tmp_path / "out" / "dag.py"
    code = main(["compile", str(CONFORMANCE / "foreach_flow.py"), "--target", "airflow", "--operator",
                 "kubernetes", "-o", str(output)])  # fmt: skip
    assert code == 0
    text = output.read_text(encoding="utf-8")
    assert "KubernetesPodOperator.partial(" in text and 'DAG_ID = "ForeachFlow"' in text


def test_include_file_values_reach_the_conf_as_given() -> None:
    """flowc trigger has already read the file (flowc.parameter_values.trigger_values): its content
    is sent."""
    from flowc.ir import FlowIR

    ir = FlowIR(name="F", source_file="f.py", steps=(), parameters=(ParameterSpec("data", is_file=True),))
    assert coerce_parameters(ir, {"data": "a,b\n1,2\n"}) == {"data": "a,b\n1,2\n"}


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=300))
def test_any_dag_run_id_becomes_one_path_safe_run_id(airflow_run_id: str) -> None:
    run_id = flowc_run_id(airflow_run_id)
    assert re.fullmatch(r"airflow-[A-Za-z0-9_.-]+", run_id)
    assert len(run_id) <= len("airflow-") + 100 + 9
    assert flowc_run_id(airflow_run_id) == run_id
    if re.fullmatch(r"[A-Za-z0-9_.-]{1,100}", airflow_run_id):
        assert run_id == "airflow-" + airflow_run_id  # already safe: kept as it is


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=40), st.text(min_size=1, max_size=40))
def test_different_dag_run_ids_never_share_a_run_id(first: str, second: str) -> None:
    if first != second:
        assert flowc_run_id(first) != flowc_run_id(second)
