"""The runtime's graph walk (Plan) on hand-built IRs: which tasks become ready after which."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flowc.ir import FlowIR, Step, SwitchCase
from flowc.metadata import TaskAddress
from flowc.runtime.plan import Plan, PlanError


def _flow(*steps: Step) -> FlowIR:
    return FlowIR(name="F", source_file="f.py", steps=steps)


def _task(step: str, index_path: tuple[int, ...] = (), iteration: int = 0) -> TaskAddress:
    """A task of run ``r`` of flow ``F`` (every test's plan)."""
    return TaskAddress(flow="F", run_id="r", step=step, index_path=index_path, iteration=iteration)


def _walk(plan: Plan, controls: dict[str, dict]) -> list[TaskAddress]:
    """Runs every ready task in order with the control record of its step; returns the order."""
    order: list[TaskAddress] = []
    ready = plan.first()
    while ready:
        key = ready.pop(0)
        order.append(key)
        ready.extend(plan.complete(key, controls.get(key.step, {})))
    return order


NESTED = _flow(
    Step("start", "foreach", "foreach", ("row",), matching_join="join_rows", foreach_var="rows"),
    Step("row", "foreach", "foreach", ("cell",), ("start",), matching_join="join_cols", foreach_depth=1),
    Step("cell", "linear", "linear", ("join_cols",), ("row",), foreach_depth=2),
    Step(
        "join_cols",
        "join",
        "linear",
        ("join_rows",),
        ("cell",),
        is_join=True,
        split_of="row",
        foreach_depth=1,
    ),
    Step("join_rows", "join", "linear", ("end",), ("join_cols",), is_join=True, split_of="start"),
    Step("end", "end", "end", (), ("join_rows",)),
)


def test_nested_foreach_fans_out_and_joins_each_level_once() -> None:
    plan = Plan(NESTED, "r")
    order = _walk(plan, {"start": {"num_splits": 2}, "row": {"num_splits": 3}})
    assert [f"{k.step}/{k.task_id}" for k in order if k.step == "cell"] == [
        "cell/cell-0-0",
        "cell/cell-0-1",
        "cell/cell-0-2",
        "cell/cell-1-0",
        "cell/cell-1-1",
        "cell/cell-1-2",
    ]
    joins = [f"{k.step}/{k.task_id}" for k in order if k.step == "join_cols"]
    assert joins == ["join_cols/join_cols-0", "join_cols/join_cols-1"]
    assert order[-2:] == [_task("join_rows"), _task("end")]
    assert plan.finished


def test_join_waits_for_every_split() -> None:
    plan = Plan(NESTED, "r")
    ready = plan.complete(_task("start"), {"num_splits": 1})
    assert ready == [_task("row", (0,))]
    cells = plan.complete(_task("row", (0,)), {"num_splits": 2})
    assert plan.complete(cells[0], {}) == []
    assert plan.complete(cells[1], {}) == [_task("join_cols", (0,))]


def test_empty_foreach_names_the_step() -> None:
    with pytest.raises(PlanError, match=r"'start'.*empty list"):
        Plan(NESTED, "r").complete(_task("start"), {"num_splits": 0})


LOOP = _flow(
    Step("start", "start", "linear", ("work",)),
    Step("work", "linear", "linear", ("decide",), ("start", "decide")),
    Step(
        "decide",
        "switch",
        "switch",
        ("work", "end"),
        ("work",),
        condition="state",
        switch_cases=(SwitchCase("again", "work"), SwitchCase("done", "end")),
        loop_targets=("work",),
    ),
    Step("end", "end", "end", (), ("decide",)),
)


def test_loop_follows_the_control_record_iterations() -> None:
    plan = Plan(LOOP, "r")
    assert plan.complete(_task("start"), {}) == [_task("work")]
    assert plan.complete(_task("work"), {}) == [_task("decide")]
    again = {"next": ["work"], "switch_case": "again", "next_iteration": 1}
    assert plan.complete(_task("decide"), again) == [_task("work", (), 1)]
    assert plan.complete(_task("work", (), 1), {"next_iteration": 1}) == [_task("decide", (), 1)]
    done = {"next": ["end"], "switch_case": "done", "next_iteration": 1}
    assert plan.complete(_task("decide", (), 1), done) == [_task("end", (), 1)]
    assert _task("end", (), 1).task_id == "end.1"


def test_switch_to_an_unknown_step_is_an_error() -> None:
    with pytest.raises(PlanError, match="chose"):
        Plan(LOOP, "r").complete(_task("decide"), {"next": ["nowhere"]})


BRANCH_IN_FOREACH = _flow(
    Step("start", "foreach", "foreach", ("each",), matching_join="outer"),
    Step("each", "split", "split", ("a", "b"), ("start",), matching_join="inner", foreach_depth=1),
    Step("a", "linear", "linear", ("inner",), ("each",), foreach_depth=1),
    Step("b", "linear", "linear", ("inner",), ("each",), foreach_depth=1),
    Step("inner", "join", "linear", ("outer",), ("a", "b"), is_join=True, split_of="each", foreach_depth=1),
    Step("outer", "join", "linear", ("end",), ("inner",), is_join=True, split_of="start"),
    Step("end", "end", "end", (), ("outer",)),
)


def test_branch_inside_foreach_joins_per_item() -> None:
    order = _walk(Plan(BRANCH_IN_FOREACH, "r"), {"start": {"num_splits": 2}})
    assert [f"{k.step}/{k.task_id}" for k in order if k.step == "inner"] == ["inner/inner-0", "inner/inner-1"]
    assert [f"{k.step}/{k.task_id}" for k in order if k.step in ("a", "b")] == [
        "a/a-0",
        "b/b-0",
        "a/a-1",
        "b/b-1",
    ]
    assert order[-1] == _task("end")


@given(st.lists(st.integers(min_value=1, max_value=6), min_size=1, max_size=5), st.randoms())
def test_nested_foreach_runs_every_task_once_in_any_completion_order(widths: list[int], rnd) -> None:
    """Whatever order tasks finish in, each task is ready exactly once and joins wait for all inputs."""
    plan = Plan(NESTED, "r")
    rows = len(widths)
    ready, seen = plan.first(), []
    while ready:
        key = ready.pop(rnd.randrange(len(ready)))
        seen.append(key)
        control = {"num_splits": rows} if key.step == "start" else {}
        if key.step == "row":
            control = {"num_splits": widths[key.index_path[0]]}
        if key.step in ("join_cols", "join_rows"):
            inputs = [k for k in seen if k.step == ("cell" if key.step == "join_cols" else "join_cols")]
            expected = widths[key.index_path[0]] if key.step == "join_cols" else rows
            assert (
                len([k for k in inputs if k.index_path[: len(key.index_path)] == key.index_path]) == expected
            )
        ready.extend(plan.complete(key, control))
    assert len(seen) == len(set(seen)) == 1 + rows + sum(widths) + rows + 2
    assert seen[-1] == _task("end") and plan.finished
