"""Property tests: random well-formed flows compile and round-trip; random breakages get the right code."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowc.frontend import analyse
from flowc.ir import FlowIR
from tests.frontend.flowgen import FlowModel, build_model, sequences

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _analyse(model: FlowModel, name: str = "generated_flow"):
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / f"{name}.py"
        path.write_text(model.render(), encoding="utf-8")
        return analyse(path)


@SETTINGS
@given(sequences())
def test_well_formed_flows_compile_and_round_trip(seq: list) -> None:
    model = build_model(seq)
    ir, diagnostics = _analyse(model)
    assert ir is not None and not diagnostics, model.render() + "\n".join(map(str, diagnostics))
    assert FlowIR.from_json(ir.to_json()) == ir
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
            return
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
            return
        step.next_line = re.sub(r'foreach="\w+"', 'foreach="missing_items"', step.next_line)
        expected = ("foreach-var-unassigned", step.name)
    ir, diagnostics = _analyse(model)
    found = {(d.code, d.step) for d in diagnostics}
    assert ir is None
    assert expected in found, model.render() + "\n".join(map(str, diagnostics))
