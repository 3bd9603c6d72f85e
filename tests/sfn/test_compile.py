"""``flowc compile --target sfn``: golden definitions, determinism, limits, refusals, naming."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowc.backends.base import CONSTRUCTS
from flowc.backends.sfn import CAPABILITIES
from flowc.backends.sfn.definition import definition_text
from flowc.backends.sfn.naming import STATE_NAME_MAX, state_name
from flowc.backends.sfn.schedule import aws_cron
from flowc.backends.sfn.task import QUEUE_ALLOWANCE, batch_api_retry
from flowc.backends.sfn.trigger import INLINE_PARAMETERS_BYTES
from flowc.diagnostics import CompileError
from flowc.frontend.cron import normalise_cron
from tests.helpers.golden import assert_golden
from tests.sfn.compiling import GOLDEN_DIR, compile_flow, flow_files, golden_settings, task_states

FLOWS = flow_files()


@pytest.mark.parametrize("path", FLOWS, ids=lambda p: p.stem)
def test_golden_definition(path: Path) -> None:
    text = compile_flow(path)
    assert_golden(GOLDEN_DIR / f"{path.stem}.asl.json", text)


@pytest.mark.parametrize("path", FLOWS, ids=lambda p: p.stem)
def test_container_overrides_stay_under_one_kilobyte(path: Path) -> None:
    definition = json.loads(compile_flow(path))
    tasks = [
        s
        for _, s in task_states(definition)
        if s.get("Resource", "").startswith("arn:aws:states:::batch")
    ]
    assert tasks
    for state in tasks:
        overrides = json.dumps(state["Parameters"]["ContainerOverrides"])
        # Values filled in at run time: run id (<= 84), index path and iteration (<= 64), and the
        # parameters' JSON, which the trigger keeps short.
        runtime = 84 + 64 + (INLINE_PARAMETERS_BYTES if "FLOWC_PARAMETERS" in overrides else 0)
        assert len(overrides) + runtime < 1024, overrides


def test_compile_is_deterministic_and_independent_of_width() -> None:
    path = next(p for p in FLOWS if p.stem == "wide_foreach_flow")
    first = compile_flow(path)
    assert compile_flow(path) == first
    assert json.loads(first)  # the width is a run-time value: nothing in the document depends on it
    assert '"60"' not in first and "shards" not in first


def test_tasks_carry_run_id_index_and_iteration() -> None:
    definition = json.loads(compile_flow(next(p for p in FLOWS if p.stem == "nested_foreach_flow")))
    states = dict(task_states(definition))
    cell = states["cell"]["Parameters"]["ContainerOverrides"]["Command.$"]
    assert "'--run-id', $.run_id" in cell and "'--index', $.index" in cell
    assert "'--iteration', $.iteration" in cell
    assert "--index" not in states["start"]["Parameters"]["ContainerOverrides"]["Command.$"]
    # The inner Map extends the outer index path.
    inner = states["row.each"]["ItemSelector"]
    assert inner["index.$"] == "States.Format('{},{}', $.index, $$.Map.Item.Value)"
    assert inner["base.$"] == "States.Format('{}-{}', $.base, $$.Map.Item.Value)"


def test_wide_foreach_has_a_distributed_map_above_the_threshold() -> None:
    path = next(p for p in FLOWS if p.stem == "wide_foreach_flow")
    definition = json.loads(compile_flow(path, golden_settings(**{"sfn.distributed_map_threshold": 77})))
    states = dict(task_states(definition))
    route = states["start.route"]
    assert {
        "Variable": "$.control.num_splits",
        "NumericGreaterThan": 77,
        "Next": "start.chunks~d",
    } in route["Choices"]
    assert states["start.fan-out~d"]["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
    assert states["start.fan-out"]["ItemProcessor"]["ProcessorConfig"]["Mode"] == "INLINE"


def test_switch_and_loop_read_the_control_record() -> None:
    definition = json.loads(compile_flow(next(p for p in FLOWS if p.stem == "loop_flow")))
    states = dict(task_states(definition))
    assert states["decide.read"]["Resource"] == "arn:aws:states:::aws-sdk:s3:getObject"
    assert states["decide.read"]["Parameters"]["Bucket"] == "flowc-golden"
    assert (
        "datastore/runs/LoopFlow/{}/decide/decide{}{}/task.json"
        in states["decide.read"]["Parameters"]["Key.$"]
    )
    choices = {c["StringEquals"]: c["Next"] for c in states["decide.case"]["Choices"]}
    assert choices == {"again": "decide.again.again", "done": "end"}
    assert states["decide.again.again"]["Next"] == "work"


def test_features_are_lowered() -> None:
    definition = json.loads(compile_flow(next(p for p in FLOWS if p.stem == "features_flow")))
    states = dict(task_states(definition))
    train = states["train"]
    overrides = train["Parameters"]["ContainerOverrides"]
    assert {"Type": "GPU", "Value": "1"} in overrides["ResourceRequirements"]
    assert train["Parameters"]["JobQueue"] == "gpu-queue"
    assert train["Parameters"]["JobDefinition"] == "flowc-analytics-test-golden-FeaturesFlow-train"
    assert train["Retry"] == [
        batch_api_retry(),
        {
            "ErrorEquals": ["States.TaskFailed"],
            "MaxAttempts": 4,
            "IntervalSeconds": 60,
            # Metaflow's @retry: the same delay before every retry, as on every target (issue 18.9).
            "BackoffRate": 1.0,
        }
    ]
    # Runner's limit (600) < Batch's (660, from the job's start) < the state's (720 plus a day for
    # the job to wait in its queue: the state's clock starts at submission); flowc.attempts.
    assert train["Parameters"]["Timeout"] == {"AttemptDurationSeconds": 660}
    assert train["TimeoutSeconds"] == 720 + QUEUE_ALLOWANCE
    assert "secretsmanager" not in json.dumps(definition)  # secrets live in the job definition
    start = states["start"]["Parameters"]["ContainerOverrides"]
    assert {"Name": "QUOTE", "Value": "it's {braced}"} in start["Environment"]
    assert {"Type": "VCPU", "Value": "2"} in start["ResourceRequirements"]


def test_every_construct_is_supported() -> None:
    assert set(CAPABILITIES.unsupported) <= {"trigger_event", "trigger_on_finish"}  # issue 16, part 3
    assert set(CAPABILITIES.notes) | set(CAPABILITIES.unsupported) == set(CONSTRUCTS)


def test_local_datastore_is_refused_with_a_hint() -> None:
    path = FLOWS[0]
    with pytest.raises(CompileError) as raised:
        compile_flow(path, golden_settings(datastore=".flowc"))
    assert raised.value.diagnostics[0].code == "sfn-needs-s3-datastore"
    assert "s3://" in raised.value.diagnostics[0].hint


def test_package_option_replaces_source() -> None:
    text = compile_flow(FLOWS[0], package_sha="ab" * 32)
    assert "'--package', '" + "ab" * 32 + "'" in text and "--source" not in text


def test_long_state_names_are_shortened_uniquely() -> None:
    long_a, long_b = "a" * 90, "a" * 89 + "b"
    assert len(state_name(long_a)) <= STATE_NAME_MAX
    assert state_name(long_a) != state_name(long_b)
    assert state_name("join") == "join"


@pytest.mark.parametrize(
    ("cron", "expected"),
    [
        ("30 6 * * 1-5", "cron(30 6 ? * 2-6 *)"),
        ("0 0 1 * *", "cron(0 0 1 * ? *)"),
        ("*/15 * * * *", "cron(*/15 * * * ? *)"),
        ("0 12 * * 0,6", "cron(0 12 ? * 1,7 *)"),
        ("0 12 * * 7", "cron(0 12 ? * 1 *)"),
    ],
)
def test_unix_cron_becomes_eventbridge_cron(cron: str, expected: str) -> None:
    # As the IR holds it: the front end has written the cron in its standard form (7 -> 0, ...).
    assert aws_cron(normalise_cron(cron)) == expected


def test_a_200_step_definition_stays_under_the_size_limit(tmp_path: Path) -> None:
    from bench.sfn.generate import write_flow

    path = write_flow(tmp_path / "big_flow.py", 200)
    text = compile_flow(path)  # how fast: bench/sfn/bench.py, beside Metaflow
    deployed = definition_text(json.loads(text), compact=True)  # what deploy sends
    assert len(deployed.encode()) < 256 * 1024


@pytest.mark.parametrize("path", FLOWS, ids=lambda p: p.stem)
def test_every_batch_task_retries_throttled_api_calls_first(path: Path) -> None:
    """SubmitJob allows 50 calls a second: a wide foreach is throttled, and the job never ran.
    ``States.TaskFailed`` matches ``Batch.*`` errors too, so this retrier must come first."""
    definition = json.loads(compile_flow(path))
    batch = "arn:aws:states:::batch"
    tasks = [s for _, s in task_states(definition) if s.get("Resource", "").startswith(batch)]
    for state in tasks:
        first = state["Retry"][0]
        assert "Batch.TooManyRequestsException" in first["ErrorEquals"]
        assert first["JitterStrategy"] == "FULL" and first["MaxDelaySeconds"] <= 300


def _scope_tasks(block: dict, copy: str) -> set[str]:
    """The steps whose Task states are in ``block``, its Parallel branches included (a static
    split's branches run at the same index path), nested Maps not (another foreach level)."""
    steps = set()
    for name, state in block["States"].items():
        if state["Type"] == "Task" and not name.startswith("flowc."):
            steps.add(name.removesuffix(copy))
        for branch in state.get("Branches") or ():
            steps |= _scope_tasks(branch, copy)
    return {s for s in steps if "." not in s}  # a step's name has no '.', helper states do


def _foreach_bodies(block: dict) -> dict[str, dict]:
    """``<foreach>.each`` Map name -> its item processor, at every depth."""
    found = {}
    for name, state in block["States"].items():
        for inner in [*(state.get("Branches") or ()), *filter(None, [state.get("ItemProcessor")])]:
            found.update(_foreach_bodies(inner))
        if state["Type"] == "Map" and ".each" in name:
            found[name] = state["ItemProcessor"]
    return found


@pytest.mark.parametrize("path", FLOWS, ids=lambda p: p.stem)
def test_lowered_scopes_agree_with_the_ir_structure(path: Path) -> None:
    """Where the lowering's scope walk puts each step equals the IR's structure facts (issue 13:
    the back end must not disagree with ``foreach_stack`` / ``loop_body``): a step's Task state is
    in the item processor of its innermost foreach's Map (top level: no foreach), in both copies of
    a Distributed Map; a switch case is lowered as a loop back edge exactly when the IR puts the
    switch in the loop body of the case's target."""
    from flowc.frontend import build_ir

    ir = build_ir(path)
    try:
        definition = json.loads(compile_flow(path))
    except CompileError:
        pytest.skip("refused on Step Functions")
    assert _scope_tasks(definition, "") == {s.name for s in ir.steps if not s.foreach_stack}
    for map_name, processor in _foreach_bodies(definition).items():
        foreach, _, copy = map_name.partition(".each")
        expected = {s.name for s in ir.steps if s.foreach_stack[-1:] == (foreach,)}
        assert _scope_tasks(processor, copy) == expected, map_name
    names = {name for name, _ in task_states(definition)}
    for step in ir.steps:
        assert step.foreach_depth == len(step.foreach_stack), step.name
        for case in step.switch_cases:
            back = step.name in ir.step(case.target).loop_body
            assert (f"{step.name}.again.{case.key}" in names) == back, (step.name, case.key)
