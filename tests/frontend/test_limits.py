"""Names the targets or the datastore would refuse later are refused by ``flowc check`` (issue 19
item 10), with the limit that binds; names at the limit compile for every target and run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from flowc.backends.airflow import compile_dag
from flowc.backends.argo.backend import compile_flow as compile_argo
from flowc.backends.options import CompileOptions
from flowc.backends.sfn import BACKEND as SFN
from flowc.config import load_settings
from flowc.frontend import analyse, build_ir
from flowc.frontend.limits import FLOW_NAME_MAX_BYTES, STEP_NAME_MAX

REPO = Path(__file__).resolve().parents[2]


def _flow(directory: Path, step: str, flow: str = "LimitFlow") -> Path:
    path = directory / "limit_flow.py"
    path.write_text(
        "from flowc import FlowSpec, step\n\n\n"
        f"class {flow}(FlowSpec):\n"
        "    @step\n    def start(self):\n"
        f"        self.next(self.{step})\n\n"
        f"    @step\n    def {step}(self):\n"
        "        self.value = 1\n        self.next(self.end)\n\n"
        "    @step\n    def end(self):\n        pass\n",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    ("step", "flow", "expected"),
    [
        ("s" * 300, "LimitFlow", "Airflow task ids hold at most 250"),
        ("s" * (STEP_NAME_MAX + 1), "LimitFlow", f"at most {STEP_NAME_MAX}"),
        ("é" * 130, "LimitFlow", "260 bytes in UTF-8"),  # 130 characters, 260 bytes: a folder name
        ("étape", "LimitFlow", "only when it is ASCII"),  # Airflow 3 cannot run such a task
        ("a·b", "LimitFlow", "step name holds '·'"),  # a Python identifier, not an Airflow task id
        ("middle", "F" * (FLOW_NAME_MAX_BYTES + 1), f"at most {FLOW_NAME_MAX_BYTES}"),
    ],
    ids=["300-characters", "one-over-airflow", "non-ascii-bytes", "non-ascii", "middle-dot", "flow-name"],
)
def test_check_refuses_names_a_target_or_the_datastore_would_refuse(
    tmp_path: Path, step: str, flow: str, expected: str
) -> None:
    path = _flow(tmp_path, step, flow)
    result = subprocess.run(
        [sys.executable, "-m", "flowc", "check", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    line = 4 if step == "middle" else 10
    assert f"limit_flow.py:{line}:" in result.stderr
    assert "[name-too-long]" in result.stderr or "[name-not-portable]" in result.stderr
    assert expected in result.stderr
    assert "hint: give the" in result.stderr or "hint: rename the step" in result.stderr


def test_a_step_name_at_the_limit_compiles_for_every_target_and_runs(tmp_path: Path) -> None:
    step = "s" * STEP_NAME_MAX
    path = _flow(tmp_path, step)
    ir, diagnostics = analyse(path)
    assert ir is not None, diagnostics
    settings = load_settings({"datastore": "s3://bucket/root"}, start=Path("/"), environ={})
    for operator in ("local", "kubernetes"):
        compile_dag(ir, settings, CompileOptions(operator=operator))
    compile_argo(ir, settings, CompileOptions())
    SFN.compile(build_ir(path), settings, CompileOptions())
    result = subprocess.run(
        [sys.executable, "-m", "flowc", "run", str(path), "--datastore", str(tmp_path / "store")],
        capture_output=True, text=True, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
