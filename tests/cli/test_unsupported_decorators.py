"""Metaflow decorators flowc does not implement are refused, never dropped (issue 18, item 8).

A Metaflow flow with its import changed to flowc meets `flowc check`, `flowc compile` and
`python FLOW.py run`: each names the file, the line, the step and what to do instead.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from flowc.authoring.decorators import UNSUPPORTED_DECORATORS
from flowc.cli import main
from tests.conformance.matrix import REPO_ROOT

FLOW_LEVEL = {
    "conda_base",
    "pypi_base",
    "trigger",
    "trigger_on_finish",
    "exit_hook",
    "airflow_external_task_sensor",
    "airflow_s3_key_sensor",
}


def _flow(tmp_path: Path, name: str, *, on_class: bool) -> Path:
    class_decorator = f"@{name}\n" if on_class else ""
    step_decorator = "" if on_class else f"    @{name}\n"
    text = (
        f"from flowc import FlowSpec, step, {name}\n"
        "\n"
        "\n"
        f"{class_decorator}class UsesFlow(FlowSpec):\n"
        f"{step_decorator}"
        "    @step\n"
        "    def start(self):\n"
        "        self.next(self.end)\n"
        "\n"
        "    @step\n"
        "    def end(self):\n"
        "        pass\n"
        "\n"
        "\n"
        "if __name__ == '__main__':\n"
        "    UsesFlow()\n"
    )
    path = tmp_path / "uses_flow.py"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", sorted(UNSUPPORTED_DECORATORS))
def test_check_and_compile_refuse_it_with_line_step_and_hint(
    tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    on_class = name in FLOW_LEVEL
    path = _flow(tmp_path, name, on_class=on_class)
    where = "uses_flow.py:4:" if on_class else "uses_flow.py:5: step 'start':"
    expected = f"{where} @{name} is a Metaflow decorator flowc does not support (yet)"
    for argv in (["check", str(path)], ["compile", str(path), "--target", "argo"]):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert expected in err, err
        assert f"(hint: {UNSUPPORTED_DECORATORS[name]}) [unsupported-decorator]" in err


def test_python_flow_run_refuses_before_any_task(tmp_path: Path) -> None:
    path = _flow(tmp_path, "conda", on_class=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWC_")}
    env["PYTHONPATH"] = str(REPO_ROOT)
    result = subprocess.run(
        [sys.executable, str(path), "run", "--datastore", str(tmp_path / "ds")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert "uses_flow.py:5: step 'start': @conda is a Metaflow decorator" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "ds").exists()


def test_any_decorator_imported_from_metaflow_is_refused(tmp_path: Path, capsys) -> None:
    # Not in flowc's table (a Metaflow extension's), but imported from metaflow: still refused.
    path = tmp_path / "ext_flow.py"
    path.write_text(
        textwrap.dedent("""
        from flowc import FlowSpec, step
        from metaflow import checkpoint


        class ExtFlow(FlowSpec):
            @checkpoint
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
        """),
        encoding="utf-8",
    )
    assert main(["check", str(path)]) == 1
    assert "step 'start': @checkpoint is a Metaflow decorator" in capsys.readouterr().err


def test_a_users_own_decorator_of_the_same_name_is_left_alone(tmp_path: Path, capsys) -> None:
    path = tmp_path / "own_flow.py"
    path.write_text(
        textwrap.dedent("""
        import functools

        import mylib
        from flowc import FlowSpec, step


        def trigger(f):
            return f


        class OwnFlow(FlowSpec):
            @trigger
            @step
            def start(self):
                self.next(self.end)

            @mylib.conda
            @step
            def end(self):
                pass
        """),
        encoding="utf-8",
    )
    assert main(["check", str(path)]) == 0, capsys.readouterr().err
