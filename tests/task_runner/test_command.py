"""The task runner's command lines: one formatter and one parser per module, engine placeholders."""

from __future__ import annotations

import pytest

from flowc.metadata import TaskAddress
from flowc.task_runner.spec import (
    FinishSpec,
    Placeholder,
    RegionSpec,
    TaskSpec,
    format_argv,
    format_finish_argv,
    format_region_argv,
    parse_argv,
    parse_finish_argv,
    parse_region_argv,
)

TASK = TaskSpec(
    address=TaskAddress(flow="F", run_id="r1", step="b", index_path=(3, 1), iteration=2),
    attempt=1,
    package="ab" * 32,
    datastore="s3://bucket/prefix",
    control_file="/tmp/c.json",
    tags=("x", "y z"),
)


def test_every_command_line_reads_back_as_it_was_written() -> None:
    assert parse_argv(format_argv(TASK)) == TASK
    region = RegionSpec(task=TASK, steps=("a", "b"), retries=(("a", 2, 1.5), ("b", 1, 0.0)))
    assert parse_region_argv(format_region_argv(region)) == region
    finish = FinishSpec(flow="F", run_id="r1", datastore="/d", package="p", status="failed", reason="why")
    assert parse_finish_argv(format_finish_argv(finish)) == finish


def test_placeholders_take_the_place_of_the_values_and_stay_placeholders() -> None:
    task = TaskAddress(
        flow="F",
        run_id=Placeholder("$.run_id"),
        step="b",
        index_path=Placeholder("$.index"),
        iteration=Placeholder("$.iteration"),
    )
    spec = TaskSpec(
        address=task,
        attempt=Placeholder("{{retries}}"),
        source="f.py",
    )
    argv = format_argv(spec)
    assert argv == [
        "--flow", "F", "--step", "b", "--run-id", "$.run_id", "--index", "$.index",
        "--iteration", "$.iteration", "--attempt", "{{retries}}", "--source", "f.py",
    ]  # fmt: skip
    placeholders = [word for word in argv if isinstance(word, Placeholder)]
    assert placeholders == ["$.run_id", "$.index", "$.iteration", "{{retries}}"]
    # Once the engine has filled them in, the runner reads the values.
    filled = {"$.run_id": "sfn-x", "$.index": "4", "$.iteration": "0", "{{retries}}": "2"}
    parsed = parse_argv([filled.get(word, word) for word in argv])
    assert parsed.address == TaskAddress(flow="F", run_id="sfn-x", step="b", index_path=(4,))
    assert parsed.attempt == 2


def test_an_address_with_placeholders_has_no_task_id() -> None:
    with pytest.raises(ValueError, match="placeholders"):
        _ = TaskAddress(flow="F", run_id="r", step="b", index_path=Placeholder("$.index")).task_id


def test_a_task_id_reads_back_to_the_address_it_was_derived_from() -> None:
    address = TaskAddress(flow="Flow", run_id="r1", step="step", index_path=(3, 1), iteration=2)
    assert address.pathspec == "Flow/r1/step/step-3-1.2"
    # Where only the id is known (a datastore folder, a pathspec), it reads back to the same task.
    assert TaskAddress.from_task_id(flow="Flow", run_id="r1", task_id="step-3-1.2") == address
    with pytest.raises(ValueError, match="not a flowc task id"):
        TaskAddress.from_task_id(flow="Flow", run_id="r1", task_id="7")


def test_a_task_address_is_built_with_keywords_only() -> None:
    with pytest.raises(TypeError):
        TaskAddress("Flow", "r1", "step", "step")  # type: ignore[misc]


def test_a_region_entry_must_be_one_of_its_steps() -> None:
    with pytest.raises(SystemExit):
        parse_region_argv(["--flow", "F", "--run-id", "r", "--entry", "c", "--steps", "a,b"])


def test_an_argo_document_holds_plain_strings_for_any_yaml_writer() -> None:
    import yaml

    from flowc.backends.argo.document import build_documents
    from flowc.backends.options import CompileOptions
    from flowc.config import load_settings
    from flowc.frontend import build_ir
    from tests.conformance.matrix import FLOWS_DIR

    ir = build_ir(str(FLOWS_DIR / "foreach_flow.py"))
    for _, document in build_documents(ir, load_settings(), CompileOptions(package_sha="0" * 64)):
        text = yaml.safe_dump(document)  # refuses str subclasses such as Placeholder
        assert "{{inputs.parameters.index}}" in text or "kind: CronWorkflow" in text
