"""Property tests: random well-formed flows compile and round-trip; random breakages get the right code."""

from __future__ import annotations

import dataclasses
import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from flowc.frontend import analyse
from flowc.ir import FlowIR
from tests.frontend.flowgen import FlowModel, build_model, sequences

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _analyse(model: FlowModel, name: str = "generated_flow", inherited: int = 0, rename: bool = False):
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / f"{name}.py"
        text = model.render(inherited)
        if rename:  # steps no longer called *join*: only the graph can tell which step joins
            text = text.replace("join", "gather")
        path.write_text(text, encoding="utf-8")
        return analyse(path)


def _without_locations(ir: FlowIR) -> FlowIR:
    return dataclasses.replace(
        ir, steps=tuple(dataclasses.replace(s, location=None, transition_location=None) for s in ir.steps)
    )


@SETTINGS
@given(sequences())
def test_well_formed_flows_compile_and_round_trip(seq: list) -> None:
    model = build_model(seq)
    ir, diagnostics = _analyse(model)
    assert ir is not None and not diagnostics, model.render() + "\n".join(map(str, diagnostics))
    assert FlowIR.from_json(ir.to_json()) == ir
    again, _ = _analyse(model)  # another folder, another analysis: the same bytes
    assert again is not None and again.to_json() == ir.to_json()
    assert [s.name for s in ir.steps] == [s.name for s in model.steps]
    for step, meant in zip(ir.steps, model.steps, strict=True):
        assert step.kind == (meant.kind if step.name != "start" or meant.kind != "linear" else "start")
        if step.kind in ("split", "foreach"):
            join = ir.step(step.matching_join)
            assert join.split_of == step.name and join.foreach_depth == step.foreach_depth
        if step.kind == "foreach":
            assert ir.step(step.successors[0]).foreach_depth == step.foreach_depth + 1
        if step.kind in ("linear", "start") and not ir.step(step.successors[0]).is_join:
            assert ir.step(step.successors[0]).foreach_depth == step.foreach_depth
        assert not step.loop_targets or step.kind == "switch"
        for successor in step.successors:
            assert step.name in ir.step(successor).predecessors


@SETTINGS
@given(sequences(), st.data())
def test_steps_inherited_from_a_base_flow_give_the_same_graph(seq: list, data: st.DataObject) -> None:
    model = build_model(seq)
    inherited = data.draw(st.integers(1, len(model.steps)), label="steps in the base class")
    ir, diagnostics = _analyse(model)
    again, more = _analyse(model, inherited=inherited)
    assert ir is not None and again is not None and not diagnostics and not more, model.render(inherited)
    assert _without_locations(again) == _without_locations(ir)


def _pick(data: st.DataObject, model: FlowModel, predicate, label: str):
    candidates = [s for s in model.steps if predicate(s)]
    if not candidates:
        return None
    return data.draw(st.sampled_from(candidates), label=label)


BREAKAGES = ("drop_inputs", "unknown_successor", "drop_next", "shadowed_parameter", "orphan_step",
             "unassigned_read", "unassigned_foreach", "cycle")


@SETTINGS
@given(sequences(), st.sampled_from(BREAKAGES), st.data())
def test_breakages_are_rejected_with_the_right_code(seq: list, breakage: str, data: st.DataObject) -> None:
    model = build_model(seq)
    expected: tuple[str, str | None]
    if breakage == "drop_inputs":
        step = _pick(data, model, lambda s: s.takes_inputs, "join")
        if step is None:
            reject()  # no such step in this flow: not a vacuous pass, another draw
        step.takes_inputs = False
        expected = ("join-missing-inputs", step.name)
    elif breakage == "unknown_successor":
        step = _pick(data, model, lambda s: s.next_line is not None, "step")
        target = re.findall(r"self\.(\w+)", step.next_line)[-1]
        step.next_line = step.next_line.replace(f"self.{target}", "self.nowhere")
        expected = ("unknown-successor", step.name)
    elif breakage == "drop_next":
        step = _pick(data, model, lambda s: s.next_line is not None, "step")
        step.next_line = None
        expected = ("missing-next", step.name)
    elif breakage == "shadowed_parameter":
        model.parameters.append('name = Parameter("name", default="x")')
        expected = ("parameter-shadowed", None)
    elif breakage == "orphan_step":
        from tests.frontend.flowgen import StepModel

        model.steps.insert(1, StepModel("orphan", [], "self.next(self.end)"))
        expected = ("unreachable-step", "orphan")
    elif breakage == "unassigned_read":
        step = _pick(data, model, lambda s: True, "step")
        step.body.insert(0, "print(self.never_assigned)")
        expected = ("read-unassigned", step.name)
    elif breakage == "cycle":
        # A plain step that jumps back to start: a cycle that is no switch loop.
        step = _pick(data, model, lambda s: s.kind == "linear" and s.next_line is not None, "step")
        step.next_line = "self.next(self.start)"
        expected = ("cycle", step.name)
    else:
        step = _pick(data, model, lambda s: s.kind == "foreach", "foreach")
        if step is None:
            reject()  # no such step in this flow: not a vacuous pass, another draw
        step.next_line = re.sub(r'foreach="\w+"', 'foreach="missing_items"', step.next_line)
        expected = ("foreach-var-unassigned", step.name)
    ir, diagnostics = _analyse(model)
    found = {(d.code, d.step) for d in diagnostics}
    assert ir is None
    assert expected in found, model.render() + "\n".join(map(str, diagnostics))


@SETTINGS
@given(sequences(depth=3), st.data())
def test_every_join_that_forgot_inputs_is_named_itself(seq: list, data: st.DataObject) -> None:
    model = build_model(seq)
    joins = [s for s in model.steps if s.takes_inputs]
    if not joins:
        reject()
    picked = st.lists(st.sampled_from(joins), min_size=1, unique_by=lambda s: s.name)
    dropped = data.draw(picked, label="joins")
    for step in dropped:
        step.takes_inputs = False
        step.body = ["pass"]  # nothing left that says `inputs`: only the graph tells it is a join
    rename = data.draw(st.booleans(), label="rename")
    ir, diagnostics = _analyse(model, rename=rename)
    found = [d for d in diagnostics if d.code == "join-missing-inputs"]
    assert ir is None
    expected = {s.name.replace("join", "gather") if rename else s.name for s in dropped}
    named = {d.step for d in found}
    if not rename:
        assert named == expected, model.render() + "\n".join(map(str, diagnostics))
    # Without *join* in the names a foreach body's plain steps may be as likely: then the hint
    # names the others, and every join that forgot `inputs` is named one way or the other.
    mentioned = named | {n for d in found for n in re.findall(r"'(\w+)'", d.hint or "")}
    assert expected <= mentioned, model.render() + "\n".join(map(str, diagnostics))
    assert len(found) == len(dropped), "\n".join(map(str, diagnostics))
