"""What Step Functions and Batch would refuse is refused at compile time (step, line, reason), and
the lowering of what they accept: schedules, secrets, names, timeouts, history, escaping."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from flowc.attempts import TIMEOUT_BACKSTOP_SECONDS
from flowc.backends.sfn.deploy import job_definition_requests
from flowc.backends.sfn.history import FOREACH_EVENTS
from flowc.backends.sfn.naming import job_name
from flowc.backends.sfn.schedule import SCHEDULE_NAME_MAX, aws_cron, schedule_request
from flowc.backends.sfn.secrets import secret_variable
from flowc.backends.sfn.task import QUEUE_ALLOWANCE
from flowc.diagnostics import CompileError
from flowc.frontend import build_ir
from flowc.frontend.cron import normalise_cron
from tests.sfn.compiling import SFN_FLOWS, compile_flow, golden_settings, task_states

SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-creds-AbCdEf"


def _flow(tmp_path: Path, body: str, header: str = "", name: str = "probe_flow.py") -> Path:
    """A flow file: ``header`` decorates the class, ``body`` holds its steps."""
    source = textwrap.dedent(
        """\
        from flowc import FlowSpec, Parameter, environment, project, schedule, secrets, step, timeout

        {header}
        class ProbeFlow(FlowSpec):
        {body}
        """
    ).format(header=textwrap.dedent(header).strip(), body=textwrap.indent(textwrap.dedent(body), "    "))
    path = tmp_path / name
    path.write_text(source, encoding="utf-8")
    return path


LINEAR = """\
@step
def start(self):
    self.next(self.end)

@step
def end(self):
    pass
"""


def _refusals(path: Path) -> list:
    with pytest.raises(CompileError) as raised:
        compile_flow(path)
    return raised.value.diagnostics


# ---- @schedule ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cron", "expected"),
    [
        ("0 0 * * 5-7", "cron(0 0 ? * 1,6-7 *)"),  # Friday to Sunday: 7 is Sunday, not 8
        ("0 0 * * 1-7", "cron(0 0 ? * * *)"),
        ("0 0 * * */2", "cron(0 0 ? * 1,3,5,7 *)"),  # a step is expanded, never shifted
        ("0 0 * * 1-5/2", "cron(0 0 ? * 2,4,6 *)"),
        ("0 0 * * MON-FRI", "cron(0 0 ? * 2-6 *)"),
        ("0 0 * * sun", "cron(0 0 ? * 1 *)"),
        ("15 3 * JAN,JUL 0", "cron(15 3 ? JAN,JUL 1 *)"),
    ],
)
def test_day_of_week_is_renumbered_day_by_day(cron: str, expected: str) -> None:
    # As the IR holds it: the front end has written the cron in its standard form (7 -> 0, ...).
    assert aws_cron(normalise_cron(cron)) == expected


def test_a_cron_restricting_both_day_fields_is_refused(tmp_path: Path) -> None:
    # Unix cron runs on the 1st *or* on Mondays; EventBridge cannot say "or".
    path = _flow(tmp_path, LINEAR, header='@schedule(cron="0 6 1 * 1")')
    [problem] = _refusals(path)
    assert problem.code == "sfn-schedule-cron"
    assert "both the day of the month and the day of the week" in problem.message
    assert problem.file.endswith("probe_flow.py")


def test_a_scheduled_flow_with_a_required_parameter_is_refused(tmp_path: Path) -> None:
    body = 'size = Parameter("size", required=True, type=int)\n\n' + LINEAR
    path = _flow(tmp_path, body, header='@schedule(cron="0 6 * * *")')
    [problem] = _refusals(path)  # refused for every target (flowc.backends.base)
    assert problem.code == "scheduled-required-parameters" and problem.line == build_ir(path).schedule.line
    assert "'size'" in problem.message


def test_schedule_names_fit_eventbridge(tmp_path: Path) -> None:
    path = _flow(tmp_path, LINEAR, header='@project(name="a-rather-long-analytics-project-name")\n'
                 '@schedule(cron="0 6 * * *")')
    ir = build_ir(path)
    settings = golden_settings(**{"project.branch": "feature-with-a-long-descriptive-branch-name"})
    from flowc.backends.sfn.naming import deployment_name

    deployment = deployment_name(ir, settings)
    assert len(deployment) > SCHEDULE_NAME_MAX  # a state machine name may be 80 long
    request = schedule_request(deployment, ir.schedule, "arn", "role")
    assert len(request["Name"]) <= SCHEDULE_NAME_MAX
    assert request["Name"] != schedule_request(deployment + "x", ir.schedule, "arn", "role")["Name"]


# ---- @secrets and @environment --------------------------------------------------------------


def test_a_secret_that_is_not_an_arn_is_refused_with_its_step_and_line(tmp_path: Path) -> None:
    # A bare name is Batch's to resolve (an ARN); a Kubernetes Secret needs a pod. A source naming
    # AWS Secrets Manager is read by the task itself (flowc/secret_sources.py): not refused.
    body = """\
    @secrets(sources=["db-creds", "kubernetes.api-keys", {"type": "aws-secrets-manager", "id": "x"}])
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
    """
    problems = _refusals(_flow(tmp_path, body))
    assert [p.code for p in problems] == ["sfn-secret-source", "sfn-secret-source"]
    assert {p.step for p in problems} == {"start"}
    assert all(p.line == 7 for p in problems)  # the def line
    assert "only a pod injects" in problems[0].message and "'db-creds'" in problems[1].message


def test_secret_variables_are_named_without_the_random_suffix() -> None:
    assert secret_variable(SECRET) == "DB_CREDS"
    assert secret_variable(SECRET + ":password::") == "PASSWORD"
    assert secret_variable("arn:aws:ssm:eu-west-1:123456789012:parameter/prod/api-token") == "API_TOKEN"


def test_two_secrets_setting_one_variable_are_refused(tmp_path: Path) -> None:
    other = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-creds-ZyXwVu"
    body = f"""\
    @secrets(sources=[{SECRET!r}, {other!r}])
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
    """
    [problem] = _refusals(_flow(tmp_path, body))
    assert problem.code == "sfn-secret-variable" and "DB_CREDS" in problem.message


def test_job_definition_holds_secret_references_only(tmp_path: Path) -> None:
    body = f"""\
    @secrets(sources=[{SECRET + ":password::"!r}])
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
    """
    ir = build_ir(_flow(tmp_path, body))
    requests = job_definition_requests(ir, golden_settings())
    [own] = [r for r in requests if r["jobDefinitionName"].endswith("-start")]
    reference = {"name": "PASSWORD", "valueFrom": SECRET + ":password::"}
    assert own["containerProperties"]["secrets"] == [reference]


def test_environment_names_batch_reserves_are_refused(tmp_path: Path) -> None:
    body = """\
    @environment(vars={"AWS_BATCH_JOB_ID": "mine"})
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
    """
    [problem] = _refusals(_flow(tmp_path, body))
    assert (problem.code, problem.step) == ("sfn-reserved-environment", "start")


def test_environment_too_large_for_container_overrides_is_refused(tmp_path: Path) -> None:
    body = f"""\
    @environment(vars={{"BIG": {"x" * 9000!r}}})
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
    """
    [problem] = _refusals(_flow(tmp_path, body))
    assert (problem.code, problem.step) == ("sfn-overrides-too-large", "start")
    assert "8,192" in problem.message


# ---- names, timeouts, escaping --------------------------------------------------------------


def test_batch_job_names_begin_alphanumeric() -> None:
    name = job_name("_Private", "start")
    assert name[0].isalnum() and len(name) <= 128
    assert job_name("Flow", "start") == "Flow-start"


def test_state_timeout_leaves_room_for_the_batch_queue(tmp_path: Path) -> None:
    body = """\
    @timeout(seconds=60)
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
    """
    states = dict(task_states(json.loads(compile_flow(_flow(tmp_path, body)))))
    batch_limit = states["start"]["Parameters"]["Timeout"]["AttemptDurationSeconds"]
    # Batch counts from the job's start; the state from its submission, queue time included.
    assert batch_limit == 60 + TIMEOUT_BACKSTOP_SECONDS
    assert states["start"]["TimeoutSeconds"] >= batch_limit + QUEUE_ALLOWANCE
    assert QUEUE_ALLOWANCE >= 3600


def test_datastore_prefix_is_escaped_in_intrinsic_functions(tmp_path: Path) -> None:
    path = _flow(
        tmp_path,
        """\
        @step
        def start(self):
            self.items = [1]
            self.next(self.body, foreach="items")

        @step
        def body(self):
            self.next(self.join)

        @step
        def join(self, inputs):
            self.next(self.end)

        @step
        def end(self):
            pass
        """,
    )
    text = compile_flow(path, golden_settings(datastore="s3://bucket/it's {odd}"))
    states = dict(task_states(json.loads(text)))
    key = states["start.read"]["Parameters"]["Key.$"]
    assert key.startswith("States.Format('it\\'s \\{odd\\}/runs/ProbeFlow/{}/start/start{}{}/task.json'")


# ---- execution history ----------------------------------------------------------------------


def test_long_foreach_bodies_get_smaller_chunks_and_go_distributed_sooner(tmp_path: Path) -> None:
    steps = [f"s{i}" for i in range(10)]
    body = "@step\ndef start(self):\n    self.items = [1]\n    self.next(self.s0, foreach='items')\n\n"
    for current, following in zip(steps, [*steps[1:], "join"], strict=True):
        body += f"@step\ndef {current}(self):\n    self.next(self.{following})\n\n"
    body += "@step\ndef join(self, inputs):\n    self.next(self.end)\n\n@step\ndef end(self):\n    pass\n"
    states = dict(task_states(json.loads(compile_flow(_flow(tmp_path, body)))))
    chunk = int(states["start.chunks"]["Parameters"]["starts.$"].rsplit(",", 1)[1].strip(" )"))
    body_tasks = sum(1 for name, s in states.items() if name in steps and s["Type"] == "Task")
    assert body_tasks == 10
    # Each distributed child runs one chunk: 6 events per Batch task, 2 per iteration.
    assert chunk * (6 * body_tasks + 2) <= FOREACH_EVENTS < 25_000
    assert states["start.bounds"]["Parameters"]["end.$"] == f"States.MathAdd($.start, {chunk - 1})"
    inline = next(c for c in states["start.route"]["Choices"] if "NumericGreaterThan" in c)
    assert inline["NumericGreaterThan"] * (6 * body_tasks + 2) <= FOREACH_EVENTS


def test_job_definitions_fit_batch_with_the_bootstrap_in_their_environment() -> None:
    """Batch caps a RegisterJobDefinition request at 24 KiB
    (https://docs.aws.amazon.com/batch/latest/userguide/service_limits.html); each job definition
    carries the bootstrap program (flowc.backends.launch) and the @project branch."""
    from flowc.task_runner.bootstrap import BOOTSTRAP_ENV, BOOTSTRAP_SOURCE

    ir = build_ir(str(SFN_FLOWS / "features_flow.py"))
    requests = job_definition_requests(ir, golden_settings())
    assert len(requests) > 1  # the flow's, and steps with their own (secrets, image)
    for request in requests:
        environment = {e["name"]: e["value"] for e in request["containerProperties"]["environment"]}
        assert environment[BOOTSTRAP_ENV] == BOOTSTRAP_SOURCE
        assert environment["FLOWC_PROJECT_BRANCH"] == "test.golden"
        assert len(json.dumps(request).encode()) < 24 * 1024
