"""The capability declarations: complete, refused constructs become diagnostics, docs agree with code."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowc.backends import TARGETS
from flowc.backends.base import CONSTRUCTS, Capabilities, refusals
from flowc.backends.matrix import capabilities_of_all_targets, render_matrix, splice_matrix
from flowc.frontend import build_ir
from tests.helpers.golden import assert_golden

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "targets.md"
FLOWS = ROOT / "tests" / "conformance" / "flows"


def test_every_target_declares_every_construct() -> None:
    declarations = capabilities_of_all_targets()
    assert sorted(c.target for c in declarations) == sorted(TARGETS)
    for declaration in declarations:
        declared = set(declaration.unsupported) | set(declaration.notes)
        assert declared == set(CONSTRUCTS), declaration.target
        assert not set(declaration.unsupported) & set(declaration.notes), declaration.target


def test_docs_show_the_declared_matrix() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert_golden(DOC, splice_matrix(text, render_matrix()))


def test_matrix_shows_a_refusal_with_its_reason() -> None:
    declaration = Capabilities(
        target="toy", unsupported={"loop": "no back edges | ever"}, notes={"linear": "one task"}
    )
    matrix = render_matrix([declaration])
    (loop_row,) = [row for row in matrix.splitlines() if row.startswith("| `loop`")]
    assert "**refused**: no back edges \\| ever" in loop_row
    (linear_row,) = [row for row in matrix.splitlines() if row.startswith("| `linear`")]
    assert linear_row.endswith("| yes: one task |")


@pytest.mark.parametrize(
    ("flow", "construct", "step"),
    [
        ("loop_flow.py", "loop", "decide"),
        ("retry_flow.py", "retry", "flaky"),
        ("parameters_flow.py", "parameters", None),
    ],
)
def test_an_unsupported_construct_is_refused_naming_step_and_line(flow: str, construct: str, step) -> None:
    ir = build_ir(FLOWS / flow)
    declaration = Capabilities(target="toy", unsupported={construct: "the toy engine cannot"})
    diagnostics = list(refusals(ir, declaration))
    assert diagnostics, f"{flow} uses {construct}"
    first = diagnostics[0]
    assert first.code == f"unsupported-{construct.replace('_', '-')}"
    assert "the toy engine cannot" in first.message
    assert first.step == step
    if step is not None:
        assert first.line == ir.step(step).location.line
