"""Whole flows on the S3 datastore: ``flowc run --datastore s3://...``, read back with the client API,
and a run whose S3 endpoint fails mid-run fails clearly, then ``flowc resume`` completes it.

Two outages: a hang (SIGSTOP/SIGCONT of a dedicated moto server: requests time out as with an
unreachable endpoint) and a crash (SIGKILL: connections refused, then a new server on the same
port). moto keeps objects in memory, so the crashed server's state comes back by replaying its
recorder's log of every request (tests/helpers/servers.py), as a real S3 keeps its objects.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import boto3
import pytest

from tests.conformance.artifacts import assert_same_artifacts, collect_artifacts
from tests.conformance.matrix import case, local_reference
from tests.helpers.servers import moto_server

REPO_ROOT = Path(__file__).resolve().parents[2]


def _flowc(args: list[str], env: dict[str, str], timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flowc", *args], capture_output=True, text=True, env=env, timeout=timeout
    )


def _env(endpoint_env, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWC_")}
    env.update(endpoint_env)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


@pytest.mark.slow
@pytest.mark.parametrize(("name", "executor"), [("foreach", "fork"), ("switch", "subprocess")])
def test_flow_runs_on_s3_and_reads_back_with_the_client(
    name, executor, s3_root, aws_env, tmp_path, monkeypatch
):
    case_ = case(name)
    run_id_file = tmp_path / "run_id"
    arguments = ["run", str(case_.path), "--datastore", s3_root, "--run-id-file", str(run_id_file)]
    done = _flowc([*arguments, "--executor", executor, *case_.argv(tmp_path)], _env(aws_env.env))
    assert done.returncode == 0, done.stdout + done.stderr
    run_id = run_id_file.read_text().strip()
    # Every artifact of every task equals the local runtime's run of the same flow.
    actual = collect_artifacts(s3_root, case_.flow_name, run_id)
    assert_same_artifacts(local_reference(name, tmp_path), actual)
    for (step, artifact), value in case_.checks.items():
        assert actual[(step, step)][artifact] == value
    # The public client API reads it back from S3 too.
    from flowc import Flow, namespace

    monkeypatch.setenv("FLOWC_DATASTORE", s3_root)
    namespace(None)
    run = Flow(case_.flow_name)[run_id]
    assert run.successful
    assert {step.id for step in run} >= {"start", "end"}


PAUSABLE_FLOW = textwrap.dedent(
    """
    import os
    import pathlib
    import time

    from flowc import FlowSpec, step


    class PausableFlow(FlowSpec):
        @step
        def start(self):
            marks = pathlib.Path(os.environ["MARKS"])
            with open(marks / "start.log", "a") as log:
                log.write("ran\\n")
            self.numbers = list(range(1000))
            self.next(self.slow)

        @step
        def slow(self):
            marks = pathlib.Path(os.environ["MARKS"])
            (marks / "slow.reached").touch()
            while not (marks / "slow.go").exists():
                time.sleep(0.05)
            self.total = sum(self.numbers)
            self.next(self.end)

        @step
        def end(self):
            self.message = f"total {self.total}"
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("outage", ["hang", "crash"])
def test_s3_outage_fails_the_run_clearly_and_resume_completes_it(outage, tmp_path, monkeypatch):
    flow = tmp_path / "pausable_flow.py"
    flow.write_text(PAUSABLE_FLOW)
    marks = tmp_path / "marks"
    marks.mkdir()
    recording = tmp_path / "moto-recording.jsonl" if outage == "crash" else None
    with moto_server(tmp_path / "moto.log", recording=recording) as server:
        boto3.client(
            "s3",
            endpoint_url=server.endpoint,
            region_name="us-east-1",
            aws_access_key_id="t",
            aws_secret_access_key="t",
        ).create_bucket(Bucket="outage")
        root = "s3://outage/ds"
        for variable, value in server.env.items():  # for reading the runs back in this process
            monkeypatch.setenv(variable, value)
        env = _env(
            server.env,
            MARKS=str(marks),
            FLOWC_S3__RETRY_SECONDS="3",
            FLOWC_S3__READ_TIMEOUT="1",
            FLOWC_S3__CONNECT_TIMEOUT="1",
        )
        run_id_file = tmp_path / "run_id"
        command = [
            sys.executable,
            "-m",
            "flowc",
            "run",
            str(flow),
            "--datastore",
            root,
            "--run-id-file",
            str(run_id_file),
        ]
        run = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 60
            while not (marks / "slow.reached").exists():
                assert run.poll() is None, run.communicate()
                assert time.monotonic() < deadline, "the slow step never started"
                time.sleep(0.05)
            if outage == "hang":
                os.killpg(server.process.pid, signal.SIGSTOP)  # S3 stops answering mid-run
            else:
                server.kill()  # S3 dies mid-run
            try:
                (marks / "slow.go").touch()
                out, err = run.communicate(timeout=120)  # a hang guard, not a speed assertion
            finally:
                if outage == "hang":
                    os.killpg(server.process.pid, signal.SIGCONT)
                else:
                    server.restart()  # the same objects as before the crash
        finally:
            if run.poll() is None:
                run.kill()
                run.communicate()
        assert run.returncode != 0, out + err
        assert "Traceback" not in err, err  # one clear message, not a crash of the runtime
        assert "slow/slow" in err and "datastore error" in err  # the runtime says which task and why
        assert "s3://outage/ds/" in out + err  # names where it failed
        run_id = run_id_file.read_text().strip()
        # Nothing the run stored before the outage is lost.
        before = collect_artifacts(root, "PausableFlow", run_id)
        assert before[("start", "start")]["numbers"] == list(range(1000))
        assert ("slow", "slow") not in before  # the failed task left no record

        resumed_id_file = tmp_path / "resumed_id"
        resumed = _flowc(
            [
                "resume",
                str(flow),
                "--datastore",
                root,
                "--origin-run-id",
                run_id,
                "--run-id-file",
                str(resumed_id_file),
            ],
            env,
        )
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        new_id = resumed_id_file.read_text().strip()
        artifacts = collect_artifacts(root, "PausableFlow", new_id)
        assert artifacts[("end", "end")]["message"] == f"total {sum(range(1000))}"
        assert artifacts[("start", "start")]["numbers"] == list(range(1000))
        assert (marks / "start.log").read_text() == "ran\n"  # start was cloned, not run again
