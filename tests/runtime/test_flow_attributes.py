"""Class attributes as Metaflow treats them, met through `python FLOW.py run` and the client.

A parameter's class attribute, not its name, is the artifact steps read (so `train_param =
Parameter("train")` beside `def train` is fine); class-level constants are artifacts of the run, and
one that cannot be pickled fails the run before any step's code runs (issue 18, items 6 and 7).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from flowc.client import Run
from tests.conformance.matrix import REPO_ROOT
from tests.frontend.helpers import write_flow

CONSTANTS = Path(__file__).parent / "flows" / "constants_flow.py"

PARAMETER_NAMED_LIKE_A_STEP = """
    class TrainFlow(FlowSpec):
        train_param = Parameter("train", default=3, type=int)

        @step
        def start(self):
            self.next(self.train)

        @step
        def train(self):
            self.doubled = self.train_param * 2
            self.next(self.end)

        @step
        def end(self):
            pass

    if __name__ == "__main__":
        TrainFlow()
    """


def _run_flow(
    path: Path, tmp_path: Path, *args: str, **env: str
) -> tuple[subprocess.CompletedProcess[str], str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("FLOWC_")}
    environment.update(PYTHONPATH=str(REPO_ROOT), **env)
    id_file = tmp_path / "run-id"
    command = [
        sys.executable,
        str(path),
        "run",
        "--datastore",
        str(tmp_path / "ds"),
        "--run-id-file",
        str(id_file),
    ]
    result = subprocess.run(
        [*command, *args], capture_output=True, text=True, env=environment, timeout=120, check=False
    )
    run_id = id_file.read_text(encoding="utf-8") if id_file.exists() else ""
    return result, run_id


def _run(flow: str, run_id: str, tmp_path: Path) -> Run:
    return Run(f"{flow}/{run_id}", datastore=str(tmp_path / "ds"), _namespace_check=False)


def test_parameter_named_like_a_step_runs(tmp_path: Path) -> None:
    path = write_flow(tmp_path, "train_flow", PARAMETER_NAMED_LIKE_A_STEP)
    result, run_id = _run_flow(path, tmp_path, "--train", "5")
    assert result.returncode == 0, result.stderr
    run = _run("TrainFlow", run_id, tmp_path)
    assert run.data.doubled == 10
    assert run.data.train_param == 5


def test_class_constants_are_artifacts_of_every_step(tmp_path: Path) -> None:
    result, run_id = _run_flow(CONSTANTS, tmp_path, "--train", "5")
    assert result.returncode == 0, result.stderr
    run = _run("ConstantsFlow", run_id, tmp_path)
    assert run.data.total == 30
    for step in ("start", "train", "join", "end"):
        for task in run[step]:
            assert task.data.LIMIT == 3, step
            assert task["LABELS"].data == {"a": 1, "b": 2}, step
    assert run.data.tags_param == ["x", "y"]  # separator=: the step sees the text split
    assert run.data.LABELS == {"a": 1, "b": 2}
    for task in run["train"]:
        assert task.data.refused == ["train_param", "LIMIT"]  # both read-only
        assert task.data.train_param == 5 and task.data.LIMIT == 3
    names = {artifact.id for artifact in run["end"].task}
    assert {"LIMIT", "LABELS", "train_param"} <= names
    assert not {"Helper", "double", "guard", "name", "index"} & names


def test_an_unpicklable_constant_fails_the_run_before_any_step_runs(tmp_path: Path) -> None:
    marker = tmp_path / "start-ran"
    result, run_id = _run_flow(
        CONSTANTS, tmp_path, CONSTANTS_FLOW_LOCK="1", CONSTANTS_FLOW_MARKER=str(marker)
    )
    assert result.returncode != 0
    assert not marker.exists()  # the start step's code never ran
    assert "class attribute 'guard' of flow ConstantsFlow (_thread.lock) cannot be pickled" in result.stderr
    assert "Traceback" not in result.stderr
    assert not _run("ConstantsFlow", run_id, tmp_path).successful
