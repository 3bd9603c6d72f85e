"""``from flowc import Runner`` used as a notebook or a test would: typed parameters, tags, a failed
run's handle, its resume, output captured, bad input as a failed handle without a run."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from flowc import Runner

FLOWS = Path(__file__).resolve().parents[1] / "conformance" / "flows"


def test_run_with_typed_parameters_and_tags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Runner(str(FLOWS / "parameters_flow.py"), datastore=str(tmp_path / "ds"), max_workers=2) as runner:
        result = runner.run(text="hi $(x)", count=3, enabled=True, config={"a": [1]}, tags=["nb", "t2"])
    assert result.status == "successful" and result.returncode == 0
    assert result.run.successful and result.run.pathspec.startswith("ParametersFlow/")
    assert result.run.data.echo == {
        "text": "hi $(x)",
        "count": 3,
        "ratio": 0.5,
        "enabled": True,
        "config": {"a": [1]},
    }
    assert {"nb", "t2"} <= result.run.user_tags and "runtime:flowc-local" in result.run.system_tags
    assert result.run.id in result.stdout  # the run's progress lines, captured...
    assert result.run.id in capsys.readouterr().out  # ...and shown (show_output=True)


def test_a_failed_run_then_its_resume(tmp_path: Path) -> None:
    runner = Runner(
        FLOWS / "resume_flow.py", show_output=False, cwd=tmp_path
    )  # default datastore: cwd/.flowc
    failed = runner.run()
    assert failed.status == "failed" and failed.returncode != 0
    assert "fails until the run is resumed" in failed.stdout + failed.stderr
    assert failed.run is not None and not failed.run.successful and failed.run.finished
    resumed = runner.resume(origin_run_id=failed.run.id)
    runner.cleanup()
    assert resumed.status == "successful", resumed.stderr
    assert resumed.run.origin_run_id == failed.run.id and resumed.run.data is not None
    assert resumed.run["fails_once"].task.data.total == 60
    assert (tmp_path / ".flowc" / "runs" / "ResumeFlow" / resumed.run.id).is_dir()


def test_bad_input_is_a_failed_handle_without_a_run(tmp_path: Path) -> None:
    with Runner(
        str(FLOWS / "parameters_flow.py"), show_output=False, datastore=str(tmp_path / "ds")
    ) as runner:
        result = runner.run(count=3)  # `text` is required
        assert result.status == "failed" and result.run is None and "text" in result.stderr
        with pytest.raises(TypeError, match="unknown option"):
            runner.resume(colour="red")


def test_metaflow_test_harness_form_run_id_file_quiet_and_command_obj(tmp_path: Path) -> None:
    # As Metaflow's test/core run_tests.py calls it (its `api` executor): top-level `quiet`, the run
    # id in the caller's `run_id_file` (relative to cwd), and the command read back through
    # `result.command_obj` (command, process.returncode, log_files) rather than `result.stdout`.
    with Runner(FLOWS / "resume_flow.py", show_output=False, cwd=tmp_path, quiet=True) as runner:
        failed = runner.run(
            run_id_file="run-id", max_workers=50, max_num_splits=10000, tags=["刺身 means sashimi"]
        )
        assert (tmp_path / "run-id").read_text() == failed.run.id
        record = failed.command_obj
        assert record.process.returncode == failed.returncode != 0
        # the file starts its flow under __main__: `python resume_flow.py run`, as Metaflow runs it
        assert record.command[:3] == [sys.executable, str(FLOWS / "resume_flow.py"), "run"]
        stdout = Path(record.log_files["stdout"]).read_text(encoding="utf-8")
        stderr = Path(record.log_files["stderr"]).read_text(encoding="utf-8")
        assert (stdout, stderr) == (failed.stdout, failed.stderr)
        assert "fails until the run is resumed" in stdout + stderr
        resumed = runner.resume(run_id_file="run-id", max_workers=50, tags=["刺身 means sashimi"])
        assert resumed.command_obj.process.returncode == 0 and "resume" in resumed.command_obj.command
        assert (tmp_path / "run-id").read_text() == resumed.run.id != failed.run.id
        assert resumed.run.origin_run_id == failed.run.id and "刺身 means sashimi" in resumed.run.user_tags


def test_a_flow_file_without_a_main_block_runs_through_the_cli_module(tmp_path: Path) -> None:
    flow = tmp_path / "bare_flow.py"
    flow.write_text(
        "from flowc import FlowSpec, step\n\n"
        "class BareFlow(FlowSpec):\n"
        "    @step\n    def start(self):\n        self.x = 1\n        self.next(self.end)\n\n"
        "    @step\n    def end(self):\n        pass\n",
        encoding="utf-8",
    )
    with Runner(str(flow), show_output=False, datastore=str(tmp_path / "ds")) as runner:
        result = runner.run()
    assert result.status == "successful", result.stderr
    assert result.command_obj.command[1:4] == ["-m", "flowc", "run"]
    assert result.run["start"].task.data.x == 1
