"""Issue 19's run-level defects, reproduced for real: a task is successful only when its record
says so, a running run is not resumed, missing tasks are errors, damaged objects are repaired,
no task process outlives its task, Ctrl-C and a closed console still leave a run status, and long
lines are read in linear time. Every test bounds its own time (subprocess timeouts)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flowc.client import Flow, MissingTasks, Run
from flowc.datastore import layout
from flowc.datastore.local import LocalStorage
from flowc.metadata import TaskAddress, list_attempts, read_attempt, read_log, read_task
from tests.conformance.matrix import REPO_ROOT

FLOWS = Path(__file__).parent / "flows"
EXITING = FLOWS / "exiting_flow.py"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWC_")}
    env["PYTHONPATH"] = str(REPO_ROOT)
    env.update(extra)
    return env


def _flowc(
    *words: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flowc", *words],
        capture_output=True,
        text=True,
        env=env or _env(),
        timeout=timeout,
        check=False,
    )


def _run(run_id_file: Path, datastore: Path, flow: str) -> Run:
    return Run(f"{flow}/{run_id_file.read_text()}", datastore=str(datastore), _namespace_check=False)


# ---- 1. a task is successful only when its record says so ---------------------------------------
@pytest.mark.parametrize("executor", ["fork", "subprocess"])
@pytest.mark.parametrize("step", ["middle", "end"])
def test_a_step_exiting_0_before_its_record_fails_the_run_naming_it(
    tmp_path: Path, executor: str, step: str
) -> None:
    ds, id_file = tmp_path / "ds", tmp_path / "id"
    result = _flowc(
        "run",
        str(EXITING),
        "--datastore",
        str(ds),
        "--run-id-file",
        str(id_file),
        "--executor",
        executor,
        env=_env(EXIT_IN=step),
    )
    assert result.returncode == 1, result.stderr
    run = _run(id_file, ds, "ExitingFlow")
    assert run.status["status"] == "failed" and not run.successful
    task = "end/end" if step == "end" else "middle/middle-"
    assert f"task ExitingFlow/{run.id}/{task}" in result.stderr, result.stderr
    assert "os._exit" in run.status["reason"]
    assert "join" not in run.status["reason"]  # the next task is not blamed
    # (Of two foreach tasks exiting at once, the second may be recorded as stopped by the runtime.)
    reasons = [str(t.attempt_record.get("exit_reason")) for t in run[step] if t.attempt_record]
    assert any("os._exit" in reason for reason in reasons), reasons


def test_the_task_runner_as_engines_run_it_fails_a_task_exiting_0_unrecorded(tmp_path: Path) -> None:
    ds = tmp_path / "ds"

    def argv(run_id: str) -> list[str]:
        return [
            sys.executable,
            "-m",
            "flowc.task_runner",
            "--flow",
            "ExitingFlow",
            "--step",
            "start",
            "--run-id",
            run_id,
            "--source",
            str(EXITING),
            "--datastore",
            str(ds),
        ]

    result = subprocess.run(
        argv("r1"), capture_output=True, text=True, env=_env(EXIT_IN="start"), timeout=60, check=False
    )
    assert result.returncode == 1, result.stderr
    assert "ExitingFlow/r1/start/start failed" in result.stderr and "os._exit" in result.stderr
    address = TaskAddress(flow="ExitingFlow", run_id="r1", step="start")
    storage = LocalStorage(str(ds))
    record = read_attempt(storage, address, list_attempts(storage, address)[-1])
    assert record is not None and record["status"] == "failed" and "os._exit" in record["exit_reason"]
    # The same task without the fault: exit 0, recorded.
    ok = subprocess.run(argv("r2"), capture_output=True, text=True, env=_env(), timeout=60, check=False)
    assert ok.returncode == 0, ok.stderr
    assert storage.exists(TaskAddress(flow="ExitingFlow", run_id="r2", step="start").task_key)


# ---- 2. a run that is still running is not resumed; a resume never mixes two runs ----------------
SLEEPY = FLOWS / "sleepy_flow.py"


def _start(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "flowc", *command],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_for_files(folder: Path, pattern: str, count: int, process: subprocess.Popen[bytes]) -> list[Path]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = sorted(folder.glob(pattern))
        if len(found) >= count:
            return found
        assert process.poll() is None, "the run ended early"
        time.sleep(0.05)
    raise AssertionError(f"no {count} {pattern} in {folder}")


def _kill_pids(files: list[Path]) -> None:
    for file in files:
        for pid in file.read_text().split():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)


def test_resume_refuses_a_running_run_and_accepts_it_once_its_runtime_is_gone(tmp_path: Path) -> None:
    faults, ds, id_file = tmp_path / "faults", tmp_path / "ds", tmp_path / "id"
    faults.mkdir()
    process = _start(
        ["run", str(SLEEPY), "--datastore", str(ds), "--run-id-file", str(id_file), "--max-workers", "4"],
        _env(FAULT_DIR=str(faults)),
    )
    pid_files: list[Path] = []
    try:
        pid_files = _wait_for_files(faults, "*.pids", 3, process)
        run_id = id_file.read_text()
        refused = _flowc("resume", str(SLEEPY), "--datastore", str(ds), "--origin-run-id", run_id)
        assert refused.returncode == 2, refused.stderr
        assert "may still be running" in refused.stderr and "--force" in refused.stderr
        assert "Traceback" not in refused.stderr
        assert [p.name for p in (ds / "runs" / "SleepyFlow").iterdir()] == [run_id]  # no new run
        os.kill(process.pid, signal.SIGKILL)  # the runtime dies without recording a status
        process.wait(timeout=30)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        _kill_pids(pid_files)
    resumed = _flowc("resume", str(SLEEPY), "--datastore", str(ds), "--origin-run-id", run_id)
    assert resumed.returncode == 0, resumed.stderr


def test_resume_never_clones_a_task_whose_input_ran_again(tmp_path: Path) -> None:
    ds, id_file = tmp_path / "ds", tmp_path / "id"
    assert _flowc("run", str(SLEEPY), "--datastore", str(ds), "--run-id-file", str(id_file)).returncode == 0
    origin = id_file.read_text()
    storage = LocalStorage(str(ds))
    # As the origin looked while it was still running: nap/1 not yet recorded, join and end already.
    storage.delete(TaskAddress(flow="SleepyFlow", run_id=origin, step="nap", index_path=(1,)).task_key)
    resumed = _flowc(
        "resume",
        str(SLEEPY),
        "--datastore",
        str(ds),
        "--origin-run-id",
        origin,
        "--run-id-file",
        str(id_file),
    )
    assert resumed.returncode == 0, resumed.stderr
    new = id_file.read_text()

    def cloned(task: str) -> bool:
        record = read_task(storage, TaskAddress.from_task_id(flow="SleepyFlow", run_id=new, task_id=task))
        assert record is not None
        return "cloned_from" in record

    assert cloned("start") and cloned("nap-0") and cloned("nap-2")
    assert not cloned("nap-1")
    assert not cloned("join") and not cloned("end")  # their input nap/1 ran again


# ---- 3. a task missing from the datastore is an error, never a shorter view ----------------------
def test_a_lost_foreach_task_is_an_error_and_the_run_no_longer_counts_as_successful(tmp_path: Path) -> None:
    ds, id_file = tmp_path / "ds", tmp_path / "id"
    assert _flowc("run", str(SLEEPY), "--datastore", str(ds), "--run-id-file", str(id_file)).returncode == 0
    run_id = id_file.read_text()
    status = json.loads((ds / "runs" / "SleepyFlow" / run_id / "status.json").read_text())
    assert status["tasks"] == {"end": 1, "join": 1, "nap": 3, "start": 1}
    assert [t.id for t in Run(f"SleepyFlow/{run_id}", datastore=str(ds), _namespace_check=False)["nap"]] == [
        "nap-0",
        "nap-1",
        "nap-2",
    ]
    shutil.rmtree(ds / "runs" / "SleepyFlow" / run_id / "nap" / "nap-1")
    run = Run(f"SleepyFlow/{run_id}", datastore=str(ds), _namespace_check=False)
    with pytest.raises(MissingTasks, match=r"recorded 3 successful task\(s\), the datastore has 2"):
        list(run["nap"])
    assert not run.successful and run.missing_tasks() == {"nap": (3, 2)}
    assert Flow("SleepyFlow", datastore=str(ds)).latest_successful_run is None
    listing = _flowc("runs", "SleepyFlow", "--datastore", str(ds), "--all")
    assert f"{run_id}  incomplete" in listing.stdout, listing.stdout


def test_the_engines_finish_step_records_the_task_counts(tmp_path: Path) -> None:
    ds, id_file = tmp_path / "ds", tmp_path / "id"
    assert _flowc("run", str(SLEEPY), "--datastore", str(ds), "--run-id-file", str(id_file)).returncode == 0
    run_id = id_file.read_text()
    status_file = ds / "runs" / "SleepyFlow" / run_id / "status.json"
    status_file.unlink()  # as an engine's run stands before its exit hook
    finish = subprocess.run(
        [
            sys.executable,
            "-m",
            "flowc.task_runner.finish",
            "--flow",
            "SleepyFlow",
            "--run-id",
            run_id,
            "--datastore",
            str(ds),
        ],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=60,
        check=False,
    )
    assert finish.returncode == 0, finish.stderr
    assert json.loads(status_file.read_text())["tasks"] == {"end": 1, "join": 1, "nap": 3, "start": 1}


# ---- 4. a damaged object is repaired by the next run storing the same bytes ----------------------
def test_a_later_run_storing_the_same_bytes_repairs_a_damaged_object(tmp_path: Path) -> None:
    ds, id_file = tmp_path / "ds", tmp_path / "id"
    assert _flowc("run", str(SLEEPY), "--datastore", str(ds), "--run-id-file", str(id_file)).returncode == 0
    first = id_file.read_text()
    record = read_task(LocalStorage(str(ds)), TaskAddress(flow="SleepyFlow", run_id=first, step="join"))
    assert record is not None
    reference = record["artifacts"]["total"]
    damaged = Path(LocalStorage(str(ds)).path(layout.object_key(reference.get("pack", reference["sha"]))))
    os.chmod(damaged, 0o644)
    data = bytearray(damaged.read_bytes())
    data[-1] ^= 0xFF
    damaged.write_bytes(bytes(data))
    dump = _flowc("dump", f"SleepyFlow/{first}/join/join", "--datastore", str(ds))
    assert dump.returncode != 0 and "to repair it" in dump.stderr, dump.stderr
    assert _flowc("run", str(SLEEPY), "--datastore", str(ds), "--run-id-file", str(id_file)).returncode == 0
    for run_id in (first, id_file.read_text()):  # the new run reads its own artifact; the old one too
        run = Run(f"SleepyFlow/{run_id}", datastore=str(ds), _namespace_check=False)
        assert run["join"].task.data.total == 3


# ---- 5. no process started for a task outlives the task -------------------------------------------
SPAWNING = FLOWS / "spawning_flow.py"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is dead
    except OSError:
        return False


def _survivors(pids: list[int], seconds: float = 10) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
        time.sleep(0.05)
    return [pid for pid in pids if _alive(pid)]


def _spawned(files: list[Path]) -> list[int]:
    return [int(pid) for file in files for pid in file.read_text().split()]


@pytest.mark.parametrize("executor", ["fork", "subprocess"])
@pytest.mark.parametrize("ending", ["success", "ctrl-c", "sigkill"])
def test_no_process_a_task_started_outlives_it(tmp_path: Path, executor: str, ending: str) -> None:
    faults, ds = tmp_path / "faults", tmp_path / "ds"
    faults.mkdir()
    extra = {} if ending == "success" else {"SPAWN_WAIT": "1"}
    process = _start(
        ["run", str(SPAWNING), "--datastore", str(ds), "--executor", executor, "--max-workers", "2"],
        _env(FAULT_DIR=str(faults), **extra),
    )
    files: list[Path] = []
    try:
        if ending == "success":
            assert process.wait(timeout=60) == 0
            files = sorted(faults.glob("*.pids"))
        else:
            files = _wait_for_files(faults, "*.pids", 2, process)
            os.kill(process.pid, signal.SIGINT if ending == "ctrl-c" else signal.SIGKILL)
            code = process.wait(timeout=60)
            assert code == (130 if ending == "ctrl-c" else -signal.SIGKILL)
        assert len(files) == 2
        pids = _spawned(files)
        assert len(pids) == 6
        assert _survivors(pids) == [], "a process started for a task outlived it"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        _kill_pids(files)


# ---- 6. a datastore that is down holds neither the run's end nor a Ctrl-C --------------------------
def _s3_run(server, tmp_path: Path, flow: Path, *extra: str) -> tuple[subprocess.Popen[bytes], Path, Path]:
    import boto3

    credentials = {k: server.env[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    boto3.client(
        "s3",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
    ).create_bucket(Bucket="outage")
    faults = tmp_path / "faults"
    faults.mkdir()
    out = tmp_path / "out"
    env = _env(FAULT_DIR=str(faults), FLOWC_S3__RETRY_SECONDS="10", **server.env)
    with open(out, "wb") as sink:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "flowc",
                "run",
                str(flow),
                "--datastore",
                "s3://outage/ds",
                "--max-workers",
                "4",
                *extra,
            ],
            env=env,
            start_new_session=True,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    return process, faults, out


@pytest.mark.parametrize("executor", ["fork", "subprocess"])
def test_ctrl_c_is_honoured_while_the_datastore_is_down(tmp_path: Path, executor: str) -> None:
    from tests.helpers.servers import moto_server

    with moto_server() as server:
        process, faults, out = _s3_run(server, tmp_path, SLEEPY, "--executor", executor)
        files: list[Path] = []
        try:
            files = _wait_for_files(faults, "*.pids", 3, process)
            server.kill()  # S3 unreachable from now on, longer than any retry budget
            os.kill(process.pid, signal.SIGINT)
            # Bounded well below the retry budget per task: the runtime no longer waits for it.
            assert process.wait(timeout=30) == 130
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            _kill_pids(files)
    output = out.read_text()
    assert "was killed" in output and "could not record the run's final status" in output, output
    assert "Traceback" not in output


def test_a_run_whose_datastore_goes_down_ends_after_one_retry_budget_not_one_per_task(tmp_path: Path) -> None:
    from tests.helpers.servers import moto_server

    with moto_server() as server:
        process, faults, out = _s3_run(server, tmp_path, FLOWS / "waiting_flow.py")
        files: list[Path] = []
        try:
            files = _wait_for_files(faults, "*.pids", 3, process)
            server.kill()
            (faults / "go").write_text("")  # the tasks now store their artifacts: they fail
            # The tasks give up after their budget (in parallel); the runtime's own records of
            # them are best effort, in parallel, on a short budget: bounded well below 3 budgets.
            assert process.wait(timeout=55) == 1
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            _kill_pids(files)
    output = out.read_text()
    assert "failed" in output and "datastore" in output and "Traceback" not in output, output


# ---- 7. a closed or full console, or SIGHUP, still ends with the run's status recorded --------------
def _status(ds: Path, flow: str) -> dict:
    (run_dir,) = (ds / "runs" / flow).iterdir()
    return json.loads((run_dir / "status.json").read_text())


def test_a_full_stdout_does_not_stop_the_run_and_its_status_is_recorded(tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [sys.executable, "-m", "flowc", "run", str(SLEEPY), "--datastore", str(ds)],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(),
            timeout=60,
            check=False,
        )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "standard output can no longer be written" in result.stderr
    assert _status(ds, "SleepyFlow")["status"] == "successful"


def test_a_closed_stdout_pipe_does_not_stop_the_run_and_its_status_is_recorded(tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    process = subprocess.Popen(
        [sys.executable, "-m", "flowc", "run", str(SLEEPY), "--datastore", str(ds)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(),
    )
    try:
        assert process.stdout is not None and process.stdout.readline()  # `| head -1`
        process.stdout.close()
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    assert b"Traceback" not in stderr and b"Broken pipe" in stderr
    assert _status(ds, "SleepyFlow")["status"] == "successful"


def test_sighup_stops_the_run_and_records_it_killed(tmp_path: Path) -> None:
    faults, ds = tmp_path / "faults", tmp_path / "ds"
    faults.mkdir()
    process = _start(
        ["run", str(SLEEPY), "--datastore", str(ds), "--max-workers", "4"], _env(FAULT_DIR=str(faults))
    )
    files: list[Path] = []
    try:
        files = _wait_for_files(faults, "*.pids", 3, process)
        os.kill(process.pid, signal.SIGHUP)  # an SSH session dropping
        assert process.wait(timeout=60) == 130
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        _kill_pids(files)
    status = _status(ds, "SleepyFlow")
    assert status["status"] == "killed" and "SIGHUP" in status["reason"]
    assert _survivors(_spawned(files)) == []


# ---- 8. a line with no newline is read in linear time, and arrives whole ---------------------------
@pytest.mark.parametrize("executor", ["fork", "subprocess"])
def test_a_long_line_without_newline_arrives_whole(tmp_path: Path, executor: str) -> None:
    ds, id_file = tmp_path / "ds", tmp_path / "id"
    size = 4 << 20
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "flowc",
            "run",
            str(FLOWS / "long_line_flow.py"),
            "--datastore",
            str(ds),
            "--run-id-file",
            str(id_file),
            "--executor",
            executor,
        ],
        capture_output=True,
        env=_env(),
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    run_id = id_file.read_text()
    prefix = f"[LongLineFlow/{run_id}/start/start] ".encode()
    expected = (b"0123456789abcdef" * (size // 16 + 1))[:size] + b"|END"
    assert prefix + expected in result.stdout.split(b"\n")
    last = f"[LongLineFlow/{run_id}/end/end] no newline at the very end".encode()
    assert last in result.stdout.split(b"\n")
    stored = Run(f"LongLineFlow/{run_id}", datastore=str(ds), _namespace_check=False)["start"].task.stdout
    assert expected.decode() in stored.split("\n")


# ---- (core-suite's LargeMflogTest) a task's log keeps every line, however slowly the runtime reads -
@pytest.mark.parametrize("executor", ["fork", "subprocess"])
def test_every_line_of_many_loud_tasks_is_stored(tmp_path: Path, executor: str) -> None:
    ds, id_file = tmp_path / "ds", tmp_path / "id"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "flowc",
            "run",
            str(FLOWS / "loud_flow.py"),
            "--datastore",
            str(ds),
            "--run-id-file",
            str(id_file),
            "--max-workers",
            "32",
            "--executor",
            executor,
        ],
        capture_output=True,
        env=_env(LOUD_TASKS="32"),
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    run = Run(f"LoudFlow/{id_file.read_text()}", datastore=str(ds), _namespace_check=False)
    counts = {
        task.id: (len(task.stdout.splitlines()), len(task.stderr.splitlines())) for task in run["shout"]
    }
    assert counts == {f"shout-{i}": (5000, 5000) for i in range(32)}
    assert result.stdout.count(b" out line ") == 32 * 5000  # the console got every line too


# ---- (core-suite's DetectSegFaultTest) a crash is named as one, in the console and the stored log ---
@pytest.mark.parametrize("executor", ["fork", "subprocess"])
def test_a_segmentation_fault_is_named_in_the_console_and_the_tasks_stderr(
    tmp_path: Path, executor: str
) -> None:
    ds, id_file = tmp_path / "ds", tmp_path / "id"
    result = _flowc(
        "run",
        str(FLOWS / "crashing_flow.py"),
        "--datastore",
        str(ds),
        "--run-id-file",
        str(id_file),
        "--executor",
        executor,
    )
    assert result.returncode == 1
    assert "SIGSEGV (11): segmentation fault" in result.stderr, result.stderr
    run = _run(id_file, ds, "CrashingFlow")
    assert "segmentation fault" in run.status["reason"]
    assert "segmentation fault" in run["end"].task.stderr


@pytest.mark.parametrize("executor", ["fork", "subprocess"])
def test_what_a_step_printed_just_before_crashing_is_kept(tmp_path: Path, executor: str) -> None:
    # The step's output capture dies with it; what it had not read yet is passed on by the task's
    # supervisor, so the line printed last reaches the console and the stored log.
    ds, id_file = tmp_path / "ds", tmp_path / "id"
    result = _flowc(
        "run",
        str(FLOWS / "loud_crashing_flow.py"),
        "--datastore",
        str(ds),
        "--run-id-file",
        str(id_file),
        "--executor",
        executor,
    )
    assert result.returncode == 1
    assert "Crash and burn!" in result.stdout
    stdout = _run(id_file, ds, "LoudCrashingFlow")["end"].task.stdout
    assert stdout.splitlines()[-1] == "Crash and burn!"


# ---- a crashed task keeps everything it wrote --------------------------------------------------
NUMBERED = FLOWS / "numbered_crashing_flow.py"
_LINES = 200


def _numbered(text: str) -> list[int]:
    """The numbers of the lines the step printed (the console prefixes them with the task)."""
    return [int(found) for found in re.findall(r"(\d{6}) x{1016}$", text, re.MULTILINE)]


@pytest.mark.parametrize("executor", ["fork", "subprocess"])
def test_every_line_a_crashing_step_wrote_is_stored_once_in_order(tmp_path: Path, executor: str) -> None:
    # The task's output is forwarded by its supervisor, which outlives it: no chunk read but not yet
    # passed on dies with the task (a segfault, or a SIGKILL from another process). Repeated,
    # because losing a chunk depends on where the crash lands.
    for round_ in range(10):
        how = "kill" if round_ % 3 == 2 else "segv"
        ds, id_file = tmp_path / f"ds{round_}", tmp_path / f"id{round_}"
        result = _flowc(
            "run",
            str(NUMBERED),
            "--datastore",
            str(ds),
            "--run-id-file",
            str(id_file),
            "--executor",
            executor,
            env=_env(CRASH_LINES=str(_LINES), CRASH_HOW=how),
        )
        assert result.returncode == 1, result.stderr
        expected = list(range(1, _LINES + 1))
        assert _numbered(result.stdout) == expected, (round_, how)
        stored = _run(id_file, ds, "NumberedCrashingFlow")["start"].task.stdout
        assert _numbered(stored) == expected, (round_, how)


def test_a_crashed_task_as_engines_run_it_stores_everything_it_wrote(tmp_path: Path) -> None:
    # On an engine nobody else keeps the task's output: its supervisor stores the attempt's logs.
    ds = tmp_path / "ds"
    storage = LocalStorage(str(ds))
    for round_ in range(6):
        how = "kill" if round_ % 3 == 2 else "segv"
        run_id = f"r{round_}"
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "flowc.task_runner",
                "--flow",
                "NumberedCrashingFlow",
                "--step",
                "start",
                "--run-id",
                run_id,
                "--source",
                str(NUMBERED),
                "--datastore",
                str(ds),
            ],
            capture_output=True,
            text=True,
            env=_env(CRASH_LINES=str(_LINES), CRASH_HOW=how),
            timeout=60,
            check=False,
        )
        assert result.returncode != 0, result.stderr
        expected = list(range(1, _LINES + 1))
        assert _numbered(result.stdout) == expected, (round_, how)
        address = TaskAddress(flow="NumberedCrashingFlow", run_id=run_id, step="start")
        attempt = list_attempts(storage, address)[-1]
        record = read_attempt(storage, address, attempt)
        assert record is not None and record["status"] == "failed", record
        log = read_log(storage, address, attempt, "stdout")
        assert _numbered(log.decode()) == expected, (round_, how)
