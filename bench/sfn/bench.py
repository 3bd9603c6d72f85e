"""Step Functions compile benchmark: flowc beside Metaflow's ``step-functions create --only-json``.

For a generated 200-step flow (linear runs, a foreach every 20 steps, a static split every 100,
each step with @retry and @resources; see bench/sfn/generate.py) and a 10-step linear flow:

* flowc: ``build_ir`` + compile in-process (median of 5) with every socket blocked (proof that
  compiling makes no AWS call), ``flowc compile --target sfn`` in a fresh interpreter (median of 3),
  and the definition's size: as deployed (compact JSON, what counts against Step Functions' 1 MB
  quota) and as ``flowc compile`` writes it (indented);
* Metaflow (bench/.venvs/metaflow, shared, created only if missing): the same flows written for
  metaflow, ``python flow.py step-functions create --only-json`` with boto3 and its S3 datastore
  pointed at a moto server on 127.0.0.1 (it uploads its code package and calls AWS while creating
  the JSON, so it cannot run with no endpoint at all); wall time, peak memory and output size.

Usage: ``.venv/bin/python bench/sfn/bench.py`` -> writes bench/results/sfn.md.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from flowc.backends.options import CompileOptions

REPO = Path(__file__).resolve().parents[2]
sys.path[0] = str(REPO)  # run as a script: import from the repository, not from bench/sfn/

from bench.sfn.generate import write_flow  # noqa: E402

METAFLOW_VENV = REPO / "bench" / ".venvs" / "metaflow"
RESULTS = REPO / "bench" / "results" / "sfn.md"
SHAPES = (("200-step", 200, True), ("10-step linear", 10, False))
DATASTORE = "s3://bucket/flowc"


def flowc_inprocess(path: Path) -> tuple[float, int, int]:
    """Median seconds of build_ir + compile (sockets blocked); deployed and indented sizes."""
    from flowc.backends.sfn import BACKEND
    from flowc.backends.sfn.definition import definition_text
    from flowc.config import load_settings
    from flowc.frontend import build_ir

    settings = load_settings({"datastore": DATASTORE}, start=Path("/"), environ={})

    def refuse(*args, **kwargs):
        raise AssertionError("network use during compile")

    original = socket.socket.connect
    socket.socket.connect = refuse  # type: ignore[method-assign]
    try:
        times, text = [], ""
        for _ in range(5):
            started = time.perf_counter()
            text = BACKEND.compile(build_ir(str(path)), settings, CompileOptions())[0].text
            times.append(time.perf_counter() - started)
    finally:
        socket.socket.connect = original  # type: ignore[method-assign]
    compact = definition_text(json.loads(text), compact=True)
    return statistics.median(times), len(compact.encode()), len(text.encode())


def flowc_cli(path: Path, out: Path) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWC_")}
    env["PYTHONPATH"] = str(REPO)
    command = [sys.executable, "-m", "flowc", "compile", str(path), "--target", "sfn", "-o", str(out)]
    command += ["--datastore", DATASTORE]
    times = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run(command, check=True, env=env, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def ensure_metaflow() -> str | None:
    """Creates the shared Metaflow venv if missing; returns why Metaflow cannot run, or None."""
    python = METAFLOW_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(METAFLOW_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "metaflow"], check=True)
    probe = subprocess.run(
        [str(python), "-c", "import metaflow, boto3"], capture_output=True, check=False
    )
    return None if probe.returncode == 0 else "metaflow or boto3 is missing from bench/.venvs/metaflow"


def metaflow_create(path: Path, endpoint: str) -> tuple[float, int, int] | str:
    """(wall seconds, peak RSS bytes, JSON bytes) of ``step-functions create --only-json``, or why not."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("METAFLOW_", "FLOWC_", "AWS_"))}
    env.update(
        AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1",
        AWS_ENDPOINT_URL=endpoint, METAFLOW_S3_ENDPOINT_URL=endpoint, METAFLOW_DEFAULT_DATASTORE="s3",
        METAFLOW_DATASTORE_SYSROOT_S3="s3://mfbench/metaflow", USERNAME="bench",
        METAFLOW_HOME=str(path.parent), METAFLOW_BATCH_JOB_QUEUE="bench-queue",
        METAFLOW_SFN_IAM_ROLE="arn:aws:iam::123456789012:role/sfn",
        METAFLOW_ECS_S3_ACCESS_IAM_ROLE="arn:aws:iam::123456789012:role/ecs",
        METAFLOW_SFN_DYNAMO_DB_TABLE="bench-table",
        METAFLOW_EVENTS_SFN_ACCESS_IAM_ROLE="arn:aws:iam::123456789012:role/events",
        METAFLOW_ECS_FARGATE_EXECUTION_ROLE="arn:aws:iam::123456789012:role/fargate",
    )  # fmt: skip
    command = [
        str(METAFLOW_VENV / "bin" / "python"),
        str(path),
        "--no-pylint",
        "step-functions",
        "create",
    ]
    command.append("--only-json")
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    result = subprocess.run(
        command, env=env, capture_output=True, text=True, cwd=path.parent, timeout=900, check=False
    )
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines()
        return f"exit {result.returncode}: {' '.join(lines[-2:])}"
    text = result.stdout[result.stdout.find("{") :]
    with contextlib.suppress(ValueError):  # compact, like flowc's deployed figure (Metaflow indents)
        text = json.dumps(json.loads(text), separators=(",", ":"))
    return elapsed, peak if peak > before * 1024 else 0, len(text.encode())


def _job_queue(endpoint: str, name: str) -> None:
    import boto3

    def client(service: str):
        return boto3.client(
            service, endpoint_url=endpoint, aws_access_key_id="bench", aws_secret_access_key="bench",
            region_name="us-east-1",
        )  # fmt: skip

    role = client("iam").create_role(RoleName="batch", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="bench", Description="bench", VpcId=vpc)["GroupId"]
    batch = client("batch")
    # Metaflow reads the queue's compute environments' computeResources: a managed (Fargate) one.
    environment = batch.create_compute_environment(
        computeEnvironmentName="bench", type="MANAGED", state="ENABLED", serviceRole=role,
        computeResources={"type": "FARGATE", "maxvCpus": 16, "subnets": [subnet],
                          "securityGroupIds": [group]},
    )  # fmt: skip
    batch.create_job_queue(
        jobQueueName=name, state="ENABLED", priority=1,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": environment["computeEnvironmentArn"]}],
    )  # fmt: skip


def run_metaflow(flows: dict[str, Path], root: Path) -> dict[str, tuple[float, int, int] | str]:
    import boto3

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = open(root / "moto.log", "wb")  # noqa: SIM115 - closed after the server stops
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env={**os.environ, "MOTO_PORT": str(port)},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        endpoint = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        boto3.client(
            "s3", endpoint_url=endpoint, aws_access_key_id="bench", aws_secret_access_key="bench",
            region_name="us-east-1",
        ).create_bucket(Bucket="mfbench")  # fmt: skip
        _job_queue(endpoint, "bench-queue")  # Metaflow checks the queue exists
        # Peak memory is per child: run the big one first so RUSAGE_CHILDREN's maximum is its own.
        return {key: metaflow_create(flows[key], endpoint) for key, _, _ in SHAPES}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(10)
        log.close()


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        flowc_flows, metaflow_flows = {}, {}
        for key, steps, blocks in SHAPES:
            for package, target in (("flowc", flowc_flows), ("metaflow", metaflow_flows)):
                folder = root / package / key.split("-")[0]
                folder.mkdir(parents=True)
                target[key] = write_flow(folder / "bench_flow.py", steps, package, blocks)
        flowc = {key: flowc_inprocess(flowc_flows[key]) for key, _, _ in SHAPES}
        cli = {key: flowc_cli(flowc_flows[key], root / "out" / f"{key}.json") for key, _, _ in SHAPES}
        why_not = ensure_metaflow()
        metaflow = run_metaflow(metaflow_flows, root) if why_not is None else {}

    rows = []
    for key, _, _ in SHAPES:
        seconds, deployed, indented = flowc[key]
        mf = metaflow.get(key, why_not or "not run")
        if isinstance(mf, tuple):
            memory = f"{mf[1] / 2**20:.0f} MB" if mf[1] else "-"
            mf_text = f"{mf[0]:.2f} s | {memory} | {mf[2] / 1024:.1f} KB"
        else:
            mf_text = f"not measured: {mf} | - | -"
        rows.append(
            f"| {key} | {seconds * 1000:.1f} ms | {cli[key]:.2f} s | {deployed / 1024:.1f} KB "
            f"({indented / 1024:.1f} KB indented) | {mf_text} |"
        )
    text = "\n".join(
        [
            "# Step Functions compile benchmark",
            "",
            "`.venv/bin/python bench/sfn/bench.py` (2-core machine, Python 3.11). flowc in-process is",
            "`build_ir` + compile (median of 5) with sockets blocked: no AWS call is possible. The CLI",
            "column is `flowc compile --target sfn` in a fresh interpreter (median of 3). Definition size:",
            "compact JSON as `deploy` sends it (indented as `compile` writes it in brackets). Metaflow:",
            "`python flow.py step-functions create --only-json` (bench/.venvs/metaflow), boto3 and its S3",
            "datastore on a local moto server (it uploads its code package and calls AWS while creating",
            "the JSON), the same flow shapes written for metaflow; its definition size is compact JSON too.",
            "",
            "| flow | flowc compile (in-process) | flowc compile (CLI) | flowc definition "
            "| Metaflow create --only-json | Metaflow peak RSS | Metaflow definition |",
            "|---|---|---|---|---|---|---|",
            *rows,
            "",
            "Targets (issue 6): 200-step compile < 0.5 s with no AWS call; definition < 256 KB "
            "(Metaflow, per the issue: 33.5 s, 1.9 GB, 1.09 MB).",
            "",
        ]
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
