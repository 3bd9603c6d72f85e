"""Parameters on the `flowc run` command line: IncludeFile (text and binary) and tags."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from flowc.client import Run
from tests.conformance.matrix import REPO_ROOT

INCLUDE = Path(__file__).parent / "flows" / "include_flow.py"


def test_include_file_text_and_binary_reach_every_step(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("line one\nline two é\n", encoding="utf-8")
    blob = tmp_path / "blob.bin"
    blob.write_bytes(b"plain ascii, but is_text=False")  # valid UTF-8: still bytes
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWC_")}
    env["PYTHONPATH"] = str(REPO_ROOT)
    command = [sys.executable, "-m", "flowc", "run", str(INCLUDE), "--datastore", str(tmp_path / "ds")]
    command += [
        "--notes",
        str(notes),
        "--blob",
        str(blob),
        "--run-id-file",
        str(tmp_path / "id"),
        "--tag",
        "demo",
    ]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    run = Run(
        f"IncludeFlow/{(tmp_path / 'id').read_text()}", datastore=str(tmp_path / "ds"), _namespace_check=False
    )
    assert run.data.seen_notes == "line one\nline two é\n"
    assert run.data.seen_blob == b"plain ascii, but is_text=False"
    assert run["start"].task.data.notes_length == 20
    assert "demo" in run.tags
    missing = subprocess.run(
        [*command[:5], "--datastore", str(tmp_path / "ds"), "--notes", str(tmp_path / "absent.txt")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert missing.returncode == 2 and "notes" in missing.stderr and "absent.txt" in missing.stderr


def test_a_megabyte_parameter_reaches_the_step_but_not_the_run_record(tmp_path: Path) -> None:
    import json

    from tests.conformance.matrix import FLOWS_DIR

    config = json.dumps({"rows": [{"i": i, "text": "é \"q\" $(x)\n"} for i in range(40_000)]})
    assert len(config) > 1 << 20
    (tmp_path / "params.json").write_text(json.dumps({"config": config}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWC_")}
    env["PYTHONPATH"] = str(REPO_ROOT)
    datastore = str(tmp_path / "ds")
    flow = str(FLOWS_DIR / "parameters_flow.py")
    common = ["--datastore", datastore, "--run-id-file", str(tmp_path / "id")]
    result = subprocess.run(
        [sys.executable, "-m", "flowc", "run", flow, *common, "--text", "t", "--params-file",
         str(tmp_path / "params.json")],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    run_id = (tmp_path / "id").read_text()
    # every run listing reads run.json: the value is kept there as a reference to an object
    assert (tmp_path / "ds" / "runs" / "ParametersFlow" / run_id / "run.json").stat().st_size < 4096
    run = Run(f"ParametersFlow/{run_id}", datastore=datastore, _namespace_check=False)
    assert run.data.echo["config"] == json.loads(config)
    resumed = subprocess.run(  # from the start: the value is read back from the object
        [sys.executable, "-m", "flowc", "resume", flow, "start", *common, "--origin-run-id", run_id],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )
    assert resumed.returncode == 0, resumed.stderr
    again_id = (tmp_path / "id").read_text()
    again = Run(f"ParametersFlow/{again_id}", datastore=datastore, _namespace_check=False)
    assert again.id != run_id and again.data.echo["config"] == json.loads(config)


def test_a_default_function_sees_current_with_the_runs_project(tmp_path: Path) -> None:
    """Metaflow calls a callable default where the run starts, with `current` knowing the flow,
    the user and the @project facts (its DynamicParameterTest reads current.project_name)."""
    flow = tmp_path / "project_default_flow.py"
    flow.write_text(
        "from flowc import FlowSpec, Parameter, current, project, step\n\n\n"
        "def _where(context):\n"
        "    return f'{current.project_name}/{current.flow_name}/{context.parameter_name}'\n\n\n"
        "@project(name='reports')\n"
        "class ProjectDefaultFlow(FlowSpec):\n"
        "    where = Parameter('where', default=_where)\n\n"
        "    @step\n"
        "    def start(self):\n"
        "        self.seen = self.where\n"
        "        self.next(self.end)\n\n"
        "    @step\n"
        "    def end(self):\n"
        "        pass\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWC_")}
    env["PYTHONPATH"] = str(REPO_ROOT)
    command = [sys.executable, "-m", "flowc", "run", str(flow), "--datastore", str(tmp_path / "ds")]
    command += ["--run-id-file", str(tmp_path / "id")]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    run_id = (tmp_path / "id").read_text()
    run = Run(f"ProjectDefaultFlow/{run_id}", datastore=str(tmp_path / "ds"), _namespace_check=False)
    assert run.data.seen == "reports/ProjectDefaultFlow/where"
