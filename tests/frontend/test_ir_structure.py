"""The structure the IR carries per step (what back ends read instead of walking the graph again),
its enums checked when an IR is read, and the flowc version that built it (issue 13 part 1)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

import flowc
from flowc.frontend import build_ir
from flowc.ir import FlowIR, IRError, JoinKind, StepKind, Transition

SHAPES = """
from flowc import FlowSpec, step


class ShapesFlow(FlowSpec):
    @step
    def start(self):
        self.rows = [1, 2]
        self.next(self.row, foreach="rows")

    @step
    def row(self):
        self.cols = [1, 2]
        self.next(self.cell, foreach="cols")

    @step
    def cell(self):
        self.count = 0
        self.next(self.work)

    @step
    def work(self):
        self.count += 1
        self.again = "yes" if self.count < 2 else "no"
        self.next({"yes": self.work, "no": self.cell_join}, condition="again")

    @step
    def cell_join(self, inputs):
        self.next(self.row_join)

    @step
    def row_join(self, inputs):
        self.next(self.left, self.right)

    @step
    def left(self):
        self.pick = "a"
        self.next({"a": self.case_a, "b": self.case_b}, condition="pick")

    @step
    def case_a(self):
        self.next(self.after)

    @step
    def case_b(self):
        self.next(self.after)

    @step
    def after(self):
        self.next(self.branches_join)

    @step
    def right(self):
        self.next(self.branches_join)

    @step
    def branches_join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass
"""


@pytest.fixture(scope="module")
def ir(tmp_path_factory: pytest.TempPathFactory) -> FlowIR:
    path = Path(tmp_path_factory.mktemp("shapes")) / "shapes_flow.py"
    path.write_text(textwrap.dedent(SHAPES), encoding="utf-8")
    return build_ir(path)


def test_each_step_knows_the_foreach_fan_outs_around_it(ir: FlowIR) -> None:
    stacks = {step.name: step.foreach_stack for step in ir.steps}
    assert stacks["start"] == () and stacks["row"] == ("start",)
    assert stacks["cell"] == stacks["work"] == ("start", "row")
    assert stacks["cell_join"] == ("start",) and stacks["row_join"] == ()
    assert all(len(step.foreach_stack) == step.foreach_depth for step in ir.steps)


def test_loops_joins_and_where_switch_cases_meet(ir: FlowIR) -> None:
    assert ir.step("work").loop_body == ("work",)
    assert ir.step("work").loop_head == "work" and ir.step("cell").loop_head is None
    assert ir.step("cell").loop_body == ()
    joins = {step.name: step.join_kind for step in ir.steps if step.join_kind is not None}
    assert joins == {
        "cell_join": JoinKind.FOREACH,
        "row_join": JoinKind.FOREACH,
        "branches_join": JoinKind.STATIC,
    }
    assert ir.step("left").converges_at == "after"
    assert ir.step("work").converges_at == "cell_join"
    assert ir.step("branches_join").branch_ends == (("after",), ("right",))
    assert ir.step("cell_join").branch_ends == ()  # a foreach join: one input per index


SWITCH_INTO_JOIN = """
from flowc import FlowSpec, step


class SwitchIntoJoinFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.left, self.right)

    @step
    def left(self):
        self.pick = "a"
        self.next({"a": self.case_a, "b": self.case_b, "c": self.join}, condition="pick")

    @step
    def case_a(self):
        self.next(self.join)

    @step
    def case_b(self):
        self.next(self.join)

    @step
    def right(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def test_switch_cases_may_lead_straight_into_a_join(tmp_path: Path) -> None:
    """Metaflow's switch_in_branch shape: each branch arrives through one of its ends."""
    path = tmp_path / "switch_into_join_flow.py"
    path.write_text(textwrap.dedent(SWITCH_INTO_JOIN), encoding="utf-8")
    ir = build_ir(path)
    join = ir.step("join")
    assert join.join_kind == JoinKind.STATIC and join.split_of == "start"
    assert join.branch_ends == (("left", "case_a", "case_b"), ("right",))
    assert ir.step("left").converges_at == "join"


def test_the_ir_records_the_flowc_that_built_it_and_round_trips(ir: FlowIR) -> None:
    assert ir.flowc_version == flowc.__version__
    again = FlowIR.from_json(ir.to_json())
    assert again == ir and again.to_json() == ir.to_json()
    assert isinstance(again.step("start").kind, StepKind)
    assert isinstance(again.step("left").transition, Transition)


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [
        (("steps", 0, "kind"), "begin", "StepKind"),
        (("steps", 1, "transition"), "jump", "Transition"),
        (("steps", 4, "join_kind"), "dynamic", "JoinKind"),
    ],
)
def test_an_ir_with_an_unknown_kind_is_refused_when_read(
    ir: FlowIR, path: tuple[object, ...], value: str, named: str
) -> None:
    data = json.loads(ir.to_json())
    target = data
    for key in path[:-1]:
        target = target[key]  # type: ignore[index]
    target[path[-1]] = value  # type: ignore[index]
    with pytest.raises(IRError, match=f"'{value}' is not a {named}"):
        FlowIR.from_dict(data)
