"""The one deploy (flowc.backends.deploy) on every target, through the command line as a user runs
it (``python -m flowc deploy|undeploy``), against each target's harness: the fake Kubernetes API
server for Argo, moto for Step Functions and Batch, a DAGs folder for Airflow.

Every failure mode ends the same way on every target: one line on stderr, the same exit code,
nothing changed on the engine and no code package uploaded.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.airflow.conftest import airflow_home
from tests.airflow.engine import AirflowHome
from tests.argo.fake_kube import FakeKube, fake_kube
from tests.helpers.servers import MotoServer

__all__ = ["airflow_home"]  # the session's Airflow home, which loads a deployed DAG file

TARGETS = ["argo", "sfn", "airflow"]

NIGHTLY = """
from flowc import FlowSpec, schedule, step


@schedule(cron="0 6 * * *")
class NightlyFlow(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2, 3]
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
"""


@dataclass
class Harness:
    """One target's engine as deploy meets it; ``environ`` and ``options`` configure ``flowc``."""

    target: str
    workdir: Path
    datastore: str
    environ: dict[str, str]
    options: list[str] = field(default_factory=list)
    kube: FakeKube | None = None

    def flowc(self, *argv: str, environ: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWC_")}
        env.update(self.environ if environ is None else environ)
        command = [sys.executable, "-m", "flowc", *argv, "--target", self.target, *self.options]
        return subprocess.run(command, capture_output=True, text=True, check=False, cwd=self.workdir, env=env)

    def deployed(self) -> set[str]:
        """What exists on the engine for NightlyFlow."""
        if self.target == "argo":
            assert self.kube is not None
            return {f"{plural}/{name}" for plural, _, name in self.kube.objects if plural != "workflows"}
        if self.target == "airflow":
            folder = self.workdir / "dags"
            return {p.name for p in folder.iterdir()} if folder.is_dir() else set()
        import boto3

        # The moto server lives for the session: other tests' state machines may still be there.
        machines = boto3.client("stepfunctions").list_state_machines()["stateMachines"]
        found = {m["name"] for m in machines if m["name"].startswith("NightlyFlow")}
        batch = boto3.client("batch")
        definitions = batch.describe_job_definitions(jobDefinitionName="flowc-NightlyFlow", status="ACTIVE")
        found |= {f"{d['jobDefinitionName']}:{d['revision']}" for d in definitions["jobDefinitions"]}
        scheduler = boto3.client("scheduler")
        with contextlib.suppress(scheduler.exceptions.ResourceNotFoundException):
            found.add(f"schedule {scheduler.get_schedule(Name='NightlyFlow')['Name']}")
        return found

    def packages(self) -> list[str]:
        from flowc.datastore.storage import open_storage

        return [key for key in open_storage(self.datastore).list("packages/") if key.endswith("/code.tar.gz")]


@pytest.fixture(params=TARGETS)
def harness(
    request: pytest.FixtureRequest, tmp_path: Path, s3_root: str, aws_env: MotoServer
) -> Iterator[Harness]:
    workdir = tmp_path / "project"
    workdir.mkdir()
    (workdir / "nightly_flow.py").write_text(NIGHTLY, encoding="utf-8")
    environ = {**aws_env.env, "FLOWC_DATASTORE": s3_root}
    if request.param == "argo":
        with fake_kube() as kube:
            environ |= {"FLOWC_KUBERNETES__API_SERVER": kube.url, "FLOWC_KUBERNETES__TOKEN": kube.token}
            yield Harness("argo", workdir, s3_root, environ, kube=kube)
        return
    if request.param == "sfn":
        from tests.sfn.test_deploy import job_queues

        job_queues("flowc-queue")
        environ |= {
            "FLOWC_BATCH__JOB_QUEUE": "flowc-queue",
            "FLOWC_SFN__ROLE": "arn:aws:iam::123456789012:role/x",
        }
        sfn = Harness("sfn", workdir, s3_root, environ)
        yield sfn
        # The moto server lives for the session: leave no NightlyFlow for the next test.
        (workdir / "flowc.toml").unlink(missing_ok=True)
        assert sfn.flowc("undeploy", "nightly_flow.py").returncode == 0
        return
    yield Harness("airflow", workdir, s3_root, environ, options=["--dags-folder", str(workdir / "dags")])


def _one_line(result: subprocess.CompletedProcess[str], code: int) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == code, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_deploy_redeploy_and_undeploy(harness: Harness) -> None:
    deployed = harness.flowc("deploy", "nightly_flow.py")
    assert deployed.returncode == 0, deployed.stderr
    assert deployed.stderr == ""
    created = [line for line in deployed.stdout.splitlines() if line.startswith("created ")]
    assert created and deployed.stdout.startswith("uploaded code package ")
    objects = harness.deployed()
    assert objects and len(harness.packages()) == 1

    token = deployed.stdout.splitlines()[-1]
    assert token.startswith("production token nightlyflow-")  # kept by every later deploy

    again = harness.flowc("deploy", "nightly_flow.py")
    assert again.returncode == 0, again.stderr
    assert [line.split()[0] for line in again.stdout.splitlines()[1:-1]] == ["unchanged"] * len(created)
    assert again.stdout.splitlines()[-1] == token
    assert harness.deployed() == objects

    preview = harness.flowc("undeploy", "nightly_flow.py", "--dry-run")
    assert preview.returncode == 0 and "would delete " in preview.stdout
    assert harness.deployed() == objects

    removed = harness.flowc("undeploy", "nightly_flow.py")
    assert removed.returncode == 0, removed.stderr
    deleted = [line for line in removed.stdout.splitlines() if line.startswith("deleted ")]
    assert len(deleted) == len(objects) + 1  # and the deployment record (flowc.deployments)
    assert harness.deployed() == set()
    assert len(harness.packages()) == 1  # runs and their resumes still read it

    nothing = harness.flowc("undeploy", "nightly_flow.py")
    assert (
        nothing.returncode == 0
        and nothing.stdout == f"nothing deployed for NightlyFlow on {harness.target}\n"
    )


#: target -> (variable or option removed, what the one line names)
UNCONFIGURED = {
    "argo": ("FLOWC_KUBERNETES__API_SERVER", "no Kubernetes API server"),
    "sfn": ("FLOWC_SFN__ROLE", "no IAM role for the state machine"),
    "airflow": ("--dags-folder", "--dags-folder"),
}


@pytest.mark.parametrize("command", ["deploy", "undeploy"])
def test_a_target_without_configuration_is_exit_2(harness: Harness, command: str) -> None:
    missing, said = UNCONFIGURED[harness.target]
    environ = {k: v for k, v in harness.environ.items() if k != missing}
    harness.options = []
    if harness.target == "sfn" and command == "undeploy":
        environ = harness.environ  # undeploy needs no role: nothing to remove is not an error
        result = harness.flowc(command, "nightly_flow.py", environ=environ)
        assert result.returncode == 0, result.stderr
        return
    line = _one_line(harness.flowc(command, "nightly_flow.py", environ=environ), 2)
    assert line.startswith(f"flowc {command}: ") and said in line
    assert harness.deployed() == set() and harness.packages() == []


def test_a_package_that_cannot_be_built_is_exit_1(harness: Harness) -> None:
    (harness.workdir / "flowc.toml").write_text('[package]\ninclude = ["../*.txt"]\n', encoding="utf-8")
    (harness.workdir.parent / "outside.txt").write_text("not the flow's\n", encoding="utf-8")
    line = _one_line(harness.flowc("deploy", "nightly_flow.py"), 1)
    assert line.startswith("flowc deploy: cannot build the code package: package.include '../*.txt'")
    assert harness.deployed() == set() and harness.packages() == []


def test_a_refused_flow_is_exit_1_with_its_diagnostics(harness: Harness) -> None:
    required = '    day = Parameter("day", required=True)\n'
    flow = NIGHTLY.replace("class NightlyFlow(FlowSpec):\n", f"class NightlyFlow(FlowSpec):\n{required}")
    flow = flow.replace("import FlowSpec,", "import FlowSpec, Parameter,")
    (harness.workdir / "nightly_flow.py").write_text(flow, encoding="utf-8")
    for dry_run in ([], ["--dry-run"]):
        result = harness.flowc("deploy", "nightly_flow.py", *dry_run)
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert "scheduled-required-parameters" in result.stderr and "'day' has no default" in result.stderr
    assert harness.deployed() == set() and harness.packages() == []


def _break_engine(harness: Harness) -> tuple[dict[str, str], str]:
    """An environment in which the engine refuses deploy, and what the one line then says."""
    if harness.target == "argo":
        return {**harness.environ, "FLOWC_KUBERNETES__TOKEN": "wrong"}, "HTTP 401"
    if harness.target == "sfn":
        return {
            **harness.environ,
            "FLOWC_BATCH__JOB_QUEUE": "no-such-queue",
        }, "no Batch job queue 'no-such-queue'"
    (harness.workdir / "dags").write_text("a file where the DAGs folder should be\n", encoding="utf-8")
    return harness.environ, "dags/NightlyFlow.py"


def test_an_engine_that_refuses_is_exit_1_in_one_line(harness: Harness) -> None:
    environ, said = _break_engine(harness)
    line = _one_line(harness.flowc("deploy", "nightly_flow.py", environ=environ), 1)
    assert line.startswith("flowc deploy: ") and said in line
    if harness.target == "airflow":
        (harness.workdir / "dags").unlink()
    else:  # the engine refused while deploy read it: nothing was uploaded yet
        assert harness.packages() == []
    assert harness.deployed() == set()


def test_dry_run_prints_each_change_with_its_diff_and_changes_nothing(harness: Harness) -> None:
    result = harness.flowc("deploy", "nightly_flow.py", "--dry-run")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("would upload code package ")
    assert any(line.startswith("would create ") for line in lines)
    assert any(line.startswith("+++ ") and line.endswith("(new)") for line in lines)
    assert harness.deployed() == set() and harness.packages() == []


def _settings_on_the_engine(harness: Harness, airflow: AirflowHome | None) -> dict[str, Any]:
    """The deploy settings as the engine holds them: concurrency, run timeout, schedule paused."""
    import json

    if harness.target == "argo":
        assert harness.kube is not None
        template = harness.kube.objects[("workflowtemplates", "default", "nightlyflow")]["spec"]
        cron = harness.kube.objects[("cronworkflows", "default", "nightlyflow")]["spec"]
        return {
            "concurrency": template.get("parallelism"),
            "timeout": template.get("activeDeadlineSeconds"),
            "paused": cron.get("suspend", False),
        }
    if harness.target == "sfn":
        import boto3

        sfn = boto3.client("stepfunctions")
        (machine,) = [m for m in sfn.list_state_machines()["stateMachines"] if m["name"] == "NightlyFlow"]
        definition = json.loads(
            sfn.describe_state_machine(stateMachineArn=machine["stateMachineArn"])["definition"]
        )
        maps = [s for s in _states(definition) if s.get("Type") == "Map" and "ItemsPath" in s]
        inner = {s.get("MaxConcurrency") for s in maps if s["ItemsPath"] == "$.bounds.indices"}
        schedule = boto3.client("scheduler").get_schedule(Name="NightlyFlow")
        return {
            "concurrency": inner.pop() if len(inner) == 1 else inner,
            "timeout": definition.get("TimeoutSeconds"),
            "paused": schedule["State"] == "DISABLED",
        }
    assert airflow is not None
    dag = airflow.load(harness.workdir / "dags" / "NightlyFlow.py").dag
    timeout = dag.dagrun_timeout.total_seconds() if dag.dagrun_timeout else None
    return {
        "concurrency": dag.max_active_tasks,
        "timeout": int(timeout) if timeout else None,
        "paused": dag.is_paused_upon_creation,
    }


def _states(definition: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for state in definition.get("States", {}).values():
        yield state
        for nested in ("ItemProcessor", "Iterator"):
            if nested in state:
                yield from _states(state[nested])
        for branch in state.get("Branches", []):
            yield from _states(branch)


def test_deploy_settings_reach_every_engine(harness: Harness, request: pytest.FixtureRequest) -> None:
    settings = ["--max-workers", "3", "--workflow-timeout", "7200", "--schedule-paused"]
    result = harness.flowc("deploy", "nightly_flow.py", *settings)
    assert result.returncode == 0, result.stderr
    airflow = request.getfixturevalue("airflow_home") if harness.target == "airflow" else None
    assert _settings_on_the_engine(harness, airflow) == {"concurrency": 3, "timeout": 7200, "paused": True}
