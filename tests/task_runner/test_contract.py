"""The task runner's command-line contract: argv, exit codes, control outputs, attempts, parameters."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from flowc.control import ControlRecord
from flowc.datastore.local import LocalStorage
from flowc.datastore.objects import ObjectStore
from flowc.metadata import TaskAddress, list_attempts, read_attempt, read_log, read_run
from flowc.task_runner import TaskSpec, format_argv, parse_argv
from tests.task_runner.driver import FLOWS, REPO, drive, run_one


def runner(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flowc.task_runner", *argv],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def test_argv_round_trips_and_stays_short():
    task = TaskAddress(
        flow="F" * 40, run_id="argo-" + "x" * 60, step="s" * 60, index_path=(19999,) * 3, iteration=12
    )
    spec = TaskSpec(
        address=task, attempt=3, package="a" * 64, ir="b" * 32, datastore="s3://bucket/some/prefix/deep",
        control_file="/tmp/flowc/control.json", tags=("team:a",),
    )
    argv = format_argv(spec)
    assert parse_argv(argv) == spec
    assert len(" ".join(["python", "-m", "flowc.task_runner", *argv])) < 512


@pytest.mark.parametrize(
    "argv",
    [
        ["--step", "start", "--run-id", "r", "--source", "f.py"],  # no --flow
        ["--flow", "F", "--step", "start", "--run-id", "r"],  # neither --source nor --package
        ["--flow", "F", "--step", "s", "--run-id", "r", "--source", "f.py", "--index", "a,b"],
        ["--flow", "F", "--step", "s", "--run-id", "r", "--source", "f.py", "--attempt", "-1"],
    ],
)
def test_bad_argv_exits_2(argv):
    completed = runner(*argv)
    assert completed.returncode == 2, completed.stderr
    assert "error" in completed.stderr


def test_unknown_step_and_wrong_index_depth_exit_2(tmp_path):
    flow = str(FLOWS / "linear_flow.py")
    base = ["--flow", "LinearFlow", "--run-id", "r", "--source", flow, "--datastore", str(tmp_path)]
    completed = runner(*base, "--step", "nope")
    assert completed.returncode == 2
    assert "LinearFlow/r/nope/nope" in completed.stderr and "no step 'nope'" in completed.stderr
    completed = runner(*base, "--step", "start", "--index", "1")
    assert completed.returncode == 2 and "--index needs 0 indices" in completed.stderr


def test_missing_input_task_exits_2_naming_it(tmp_path):
    flow = str(FLOWS / "linear_flow.py")
    completed = runner("--flow", "LinearFlow", "--run-id", "r", "--source", flow, "--datastore",
                       str(tmp_path), "--step", "middle")
    assert completed.returncode == 2
    assert "LinearFlow/r/start/start" in completed.stderr


def test_control_record_in_file_stdout_and_task_json(tmp_path):
    datastore = tmp_path / "ds"
    control_file = tmp_path / "control.json"
    flow = str(FLOWS / "foreach_flow.py")
    completed = runner("--flow", "ForeachFlow", "--step", "start", "--run-id", "r", "--source", flow,
                       "--datastore", str(datastore), "--control-file", str(control_file))
    assert completed.returncode == 0, completed.stderr
    expected = {
        "step": "start", "task_id": "start", "index_path": [], "transition": "foreach", "num_splits": 4,
        "next": ["body"], "switch_case": None, "iteration": 0, "next_iteration": 0, "version": 1,
    }
    assert json.loads(control_file.read_text()) == expected
    assert ControlRecord.from_json(expected).num_splits == 4
    last = completed.stdout.strip().splitlines()[-1]
    assert last.startswith("FLOWC_CONTROL ") and json.loads(last.split(" ", 1)[1]) == expected
    record = json.loads((datastore / "runs/ForeachFlow/r/start/start/task.json").read_text())
    assert record["control"] == expected and record["foreach"]["num_splits"] == 4


def test_attempt_defaults_to_the_next_free_number_and_logs_are_per_attempt(tmp_path):
    datastore = tmp_path / "ds"
    flow = str(FLOWS / "retry_flow.py")
    base = ["--flow", "RetryFlow", "--run-id", "r", "--source", flow, "--datastore", str(datastore)]
    assert runner(*base, "--step", "start").returncode == 0
    first = runner(*base, "--step", "flaky")
    assert first.returncode == 1
    assert "RetryFlow/r/flaky/flaky" in first.stderr.strip().splitlines()[-1]
    assert "first attempt fails on purpose" in first.stderr.strip().splitlines()[-1]
    second = runner(*base, "--step", "flaky")
    assert second.returncode == 0, second.stderr
    storage = LocalStorage(datastore)
    address = TaskAddress(flow="RetryFlow", run_id="r", step="flaky")
    assert list_attempts(storage, address) == [0, 1]
    failed, succeeded = read_attempt(storage, address, 0), read_attempt(storage, address, 1)
    assert failed["status"] == "failed" and failed["exit_code"] == 1
    assert "first attempt fails on purpose" in failed["exit_reason"]
    assert succeeded["status"] == "successful" and succeeded["pid"] > 0 and succeeded["host"]
    assert b"RuntimeError: first attempt fails on purpose" in read_log(storage, address, 0, "stderr")
    assert read_log(storage, address, 1, "stderr") == b""
    # the failing attempt's output also reached the process's own stderr (engines show it live)
    assert "Traceback" in first.stderr


def test_logs_capture_prints_and_subprocess_output(tmp_path):
    flow_file = tmp_path / "printing_flow.py"
    flow_file.write_text(
        "import os, sys\nfrom flowc import FlowSpec, step\n\n"
        "class PrintingFlow(FlowSpec):\n"
        "    @step\n    def start(self):\n"
        "        print('hello from print')\n        print('to stderr', file=sys.stderr)\n"
        "        os.system('echo from a child process')\n        self.next(self.end)\n\n"
        "    @step\n    def end(self):\n        pass\n"
    )
    completed = runner("--flow", "PrintingFlow", "--step", "start", "--run-id", "r", "--source",
                       str(flow_file), "--datastore", str(tmp_path / "ds"))
    assert completed.returncode == 0, completed.stderr
    assert "hello from print" in completed.stdout and "from a child process" in completed.stdout
    assert completed.stdout.strip().splitlines()[-1].startswith("FLOWC_CONTROL ")
    storage = LocalStorage(tmp_path / "ds")
    address = TaskAddress(flow="PrintingFlow", run_id="r", step="start")
    stdout = read_log(storage, address, 0, "stdout").decode()
    assert "hello from print" in stdout and "from a child process" in stdout
    assert "FLOWC_CONTROL" not in stdout
    assert read_log(storage, address, 0, "stderr").decode() == "to stderr\n"


def test_parameters_from_params_file_env_and_run_record(tmp_path):
    flow = str(FLOWS / "parameters_flow.py")
    # params file
    outcome = drive(flow, tmp_path / "a", params={"text": "from file", "count": "5"}, tmp=tmp_path)
    assert outcome.artifacts("start")["count"] == 5 and outcome.artifacts("end")["text"] == "from file"
    # environment
    base = ["--flow", "ParametersFlow", "--step", "start", "--source", flow]
    completed = runner(*base, "--run-id", "e", "--datastore", str(tmp_path / "b"),
                       env={"FLOWC_PARAMETERS": json.dumps({"text": "from env", "enabled": "YES"})})
    assert completed.returncode == 0, completed.stderr
    storage = LocalStorage(tmp_path / "b")
    run = read_run(storage, "ParametersFlow", "e")
    assert run["parameters"]["text"] == "from env" and run["parameters"]["enabled"] is True
    # a run record made by a launcher, with a big value passed as an object
    storage = LocalStorage(tmp_path / "c")
    big = "x" * 300_000
    sha, _ = ObjectStore(storage).put(json.dumps(big).encode())
    storage.write("runs/ParametersFlow/l/run.json", json.dumps(
        {"id": "l", "flow": "ParametersFlow", "user": "launcher", "tags": ["t1"],
         "parameters": {"text": {"$object": sha}, "ratio": 2}}).encode())
    completed = runner(*base, "--run-id", "l", "--datastore", str(tmp_path / "c"))
    assert completed.returncode == 0, completed.stderr
    address = TaskAddress(flow="ParametersFlow", run_id="l", step="start")
    from flowc.metadata import read_task

    refs = read_task(storage, address)["artifacts"]
    assert ObjectStore(storage).load_value(refs["text"]) == big
    assert ObjectStore(storage).load_value(refs["ratio"]) == 2.0
    assert read_run(storage, "ParametersFlow", "l")["user"] == "launcher"  # not overwritten
    # an engine whose parameters are strings: an empty placeholder, the hash under "$objects"
    sha, _ = ObjectStore(storage).put(json.dumps('{"big": [1, 2]}').encode())
    outcome = drive(flow, tmp_path / "c", run_id="o", tmp=tmp_path,
                    params={"text": "t", "config": "", "$objects": json.dumps({"config": sha})})
    assert outcome.artifacts("start")["config"] == {"big": [1, 2]}


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({}, "'text'"),  # missing required
        ({"text": "t", "count": "many"}, "'count'"),
        ({"text": "t", "enabled": "maybe"}, "'enabled'"),
        ({"text": "t", "config": "{not json"}, "'config'"),
        ({"text": "t", "nope": 1}, "'nope'"),
        ({"text": "t", "$objects": "{not json"}, "$objects"),
        ({"text": "t", "$objects": {"config": 3}}, "$objects"),
    ],
)
def test_bad_parameters_exit_2_naming_the_parameter(tmp_path, params, named):
    params_file = tmp_path / "p.json"
    params_file.write_text(json.dumps(params))
    completed = runner("--flow", "ParametersFlow", "--step", "start", "--run-id", "r", "--source",
                       str(FLOWS / "parameters_flow.py"), "--datastore", str(tmp_path / "ds"),
                       "--params-file", str(params_file))
    assert completed.returncode == 2, completed.stderr
    last = completed.stderr.strip().splitlines()[-1]
    assert "ParametersFlow/r/start/start" in last and named in last
    assert not (tmp_path / "ds/runs/ParametersFlow/r/start/start/task.json").exists()


@pytest.mark.slow
def test_timeout_exits_4_with_a_clear_message(tmp_path):
    datastore = tmp_path / "ds"
    flow = str(FLOWS / "timeout_flow.py")
    base = ["--flow", "TimeoutFlow", "--run-id", "r", "--source", flow, "--datastore", str(datastore)]
    assert runner(*base, "--step", "start").returncode == 0
    completed = runner(*base, "--step", "slow")
    assert completed.returncode == 4
    last = completed.stderr.strip().splitlines()[-1]
    assert "TimeoutFlow/r/slow/slow" in last and "'slow'" in last and "@timeout of 2 s" in last
    address = TaskAddress(flow="TimeoutFlow", run_id="r", step="slow")
    attempt = read_attempt(LocalStorage(datastore), address, 0)
    assert attempt["status"] == "failed" and attempt["exit_code"] == 4


def test_timeout_in_process_also_exits_4(tmp_path):
    flow_file = tmp_path / "quick_timeout_flow.py"
    flow_file.write_text(
        "import time\nfrom flowc import FlowSpec, step, timeout\n\n"
        "class QuickTimeoutFlow(FlowSpec):\n"
        "    @timeout(seconds=1)\n    @step\n    def start(self):\n"
        "        try:\n            time.sleep(30)\n        except Exception:\n            pass\n"
        "        self.next(self.end)\n\n"
        "    @step\n    def end(self):\n        pass\n"
    )
    fields = {"flow": "QuickTimeoutFlow", "step": "start", "run_id": "r"}
    code, _ = run_one(flow_file, tmp_path / "ds", fields)
    assert code == 4


def test_package_runs_the_flow_from_the_datastore(tmp_path):
    from flowc.package import build_package, store_package

    source = tmp_path / "src"
    source.mkdir()
    (source / "helper.py").write_text("VALUE = 41\n")
    (source / "pkg_flow.py").write_text(
        "from flowc import FlowSpec, step\nimport helper\n\n"
        "class PkgFlow(FlowSpec):\n"
        "    @step\n    def start(self):\n        self.value = helper.VALUE + 1\n"
        "        self.next(self.end)\n\n"
        "    @step\n    def end(self):\n        pass\n"
    )
    storage = LocalStorage(tmp_path / "ds")
    package = build_package(source / "pkg_flow.py")
    store_package(storage, package)
    (source / "pkg_flow.py").unlink()  # the task must not need the original file
    completed = runner("--flow", "PkgFlow", "--step", "start", "--run-id", "r", "--package", package.sha,
                       "--datastore", str(tmp_path / "ds"),
                       env={"FLOWC_PACKAGE_CACHE": str(tmp_path / "cache")})
    assert completed.returncode == 0, completed.stderr
    from flowc.metadata import read_task

    address = TaskAddress(flow="PkgFlow", run_id="r", step="start")
    refs = read_task(storage, address)["artifacts"]
    assert ObjectStore(storage).load_value(refs["value"]) == 42
    completed = runner("--flow", "PkgFlow", "--step", "end", "--run-id", "r", "--package", package.sha,
                       "--datastore", str(tmp_path / "ds"),
                       env={"FLOWC_PACKAGE_CACHE": str(tmp_path / "cache")})
    assert completed.returncode == 0, completed.stderr
    cache = {"FLOWC_PACKAGE_CACHE": str(tmp_path / "cache")}
    missing = runner("--flow", "PkgFlow", "--step", "start", "--run-id", "r2", "--package", "0" * 64,
                     "--datastore", str(tmp_path / "ds"), env=cache)
    assert missing.returncode == 3 and "PkgFlow/r2/start/start" in missing.stderr


PKG_FLOW = (
    "from flowc import FlowSpec, step\n\n"
    "class PkgFlow(FlowSpec):\n"
    "    @step\n    def start(self):\n        self.value = 42\n        self.next(self.end)\n\n"
    "    @step\n    def end(self):\n        pass\n"
)


def test_a_task_refuses_code_whose_ir_is_not_its_documents(tmp_path):
    """--ir names the IR the task's document was compiled from: a package (or flow file) holding
    another IR is refused with one line and exit code 2, before any step runs (issue 13 item 2)."""
    from flowc.frontend import build_ir
    from flowc.package import build_package, store_package

    flow_file = tmp_path / "src" / "pkg_flow.py"
    flow_file.parent.mkdir()
    flow_file.write_text(PKG_FLOW)
    compiled_from = build_ir(str(flow_file)).digest
    flow_file.write_text(PKG_FLOW.replace("self.value = 42", "self.value = 43"))
    same_graph_other_code = build_package(flow_file)  # a body change: the IR is the same
    flow_file.write_text(PKG_FLOW.replace("    @step\n    def start", "    @retry\n    @step\n    def start")
                         .replace("import FlowSpec", "import FlowSpec, retry"))
    edited = build_package(flow_file)
    storage = LocalStorage(tmp_path / "ds")
    store_package(storage, same_graph_other_code)
    store_package(storage, edited)
    env = {"FLOWC_PACKAGE_CACHE": str(tmp_path / "cache")}
    datastore = str(tmp_path / "ds")
    common = ("--flow", "PkgFlow", "--step", "start", "--datastore", datastore, "--ir", compiled_from)

    refused = runner(*common, "--run-id", "r1", "--package", edited.sha, env=env)
    assert refused.returncode == 2, refused.stderr
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "compiled from IR " + compiled_from[:12] in lines[0], lines
    assert not (tmp_path / "ds" / "runs" / "PkgFlow" / "r1" / "start" / "start").exists()

    refused = runner(*common, "--run-id", "r2", "--source", str(flow_file))
    assert refused.returncode == 2 and "compiled from IR" in refused.stderr, refused.stderr

    accepted = runner(*common, "--run-id", "r3", "--package", same_graph_other_code.sha, env=env)
    assert accepted.returncode == 0, accepted.stderr


def test_runs_in_a_forked_child_with_the_flow_loaded_before_the_fork(tmp_path):
    from flowc.task_runner import load_flow, main

    flow = FLOWS / "linear_flow.py"
    loaded = load_flow(flow, "LinearFlow")
    datastore = tmp_path / "ds"
    codes = []
    for step in ("start", "middle", "end"):
        argv = ["--flow", "LinearFlow", "--step", step, "--run-id", "f", "--source", str(flow),
                "--datastore", str(datastore)]
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            os.dup2(null, 2)
            os._exit(main(argv, flow=loaded))
        codes.append(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
    assert codes == [0, 0, 0]
    from flowc.metadata import read_task

    storage = LocalStorage(datastore)
    address = TaskAddress(flow="LinearFlow", run_id="f", step="end")
    refs = read_task(storage, address)["artifacts"]
    assert ObjectStore(storage).load_value(refs["message"]) == "hello 6"


def test_a_task_of_a_run_neither_resumed_nor_triggered_imports_neither_part(tmp_path):
    # Resuming and event triggers are imported only by the tasks that need them: an import in every
    # task of every run is a per-task cost (no bytecode cache here: each import compiles).
    flow_file = tmp_path / "modules_flow.py"
    flow_file.write_text(
        "import sys\n"
        "from flowc import FlowSpec, step\n\n\n"
        "class ModulesFlow(FlowSpec):\n"
        "    @step\n"
        "    def start(self):\n"
        "        self.next(self.end)\n\n"
        "    @step\n"
        "    def end(self):\n"
        "        self.loaded = sorted(\n"
        "            name for name in ('flowc.runtime.resume', 'flowc.authoring.run_trigger')\n"
        "            if name in sys.modules\n"
        "        )\n"
    )
    outcome = drive(flow_file, tmp_path / "ds", subprocess_mode=True)
    assert outcome.succeeded, outcome.outputs
    assert outcome.artifacts("end")["loaded"] == []
