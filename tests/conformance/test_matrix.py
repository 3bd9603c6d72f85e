"""The matrix itself: every shape and behaviour has a row, every flow file is used, targets are known."""

from __future__ import annotations

from tests.conformance.matrix import BEHAVIOURS, CASES, FLOWS_DIR, SHAPES, TARGETS, cases_for


def test_every_shape_and_behaviour_has_a_row() -> None:
    names = {case.name for case in CASES}
    assert set(SHAPES) <= names
    # resume is a local-runtime behaviour, exercised by test_local.py with resume_flow.py.
    assert set(BEHAVIOURS) - {"resume"} <= {case.behaviour for case in CASES}


def test_every_flow_file_is_used_and_exists() -> None:
    used = {case.flow_file for case in CASES} | {"resume_flow.py"}
    on_disk = {path.name for path in FLOWS_DIR.glob("*_flow.py")}
    assert used <= on_disk
    assert on_disk <= used, f"flows without a matrix row: {sorted(on_disk - used)}"


def test_each_target_runs_every_case_it_does_not_disable() -> None:
    assert set(TARGETS) == {"local", "argo", "sfn", "airflow"}
    assert len(cases_for("local")) == len(CASES)
    for target in TARGETS.values():
        for reason in target.disables.values():
            assert reason, f"{target.name}: a disabled behaviour needs its reason"
