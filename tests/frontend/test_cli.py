"""``flowc check`` / ``flowc show`` and their ``python FLOW.py check|show`` forms."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from flowc.cli import main
from flowc.frontend import build_ir
from tests.frontend.helpers import write_flow

ROOT = Path(__file__).resolve().parents[2]
HELLO = ROOT / "examples" / "hello_flow.py"
INVALID = sorted((ROOT / "examples" / "invalid").glob("*.py"))

WARNING_ONLY = """
    class Maybe(FlowSpec):
        @step
        def start(self):
            self.mode = "a"
            self.next({"a": self.a, "b": self.b}, condition="mode")

        @step
        def a(self):
            self.x = 1
            self.next(self.end)

        @step
        def b(self):
            self.next(self.end)

        @step
        def end(self):
            print(self.x)
    """


def test_check_clean_flow_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(HELLO)]) == 0
    out, err = capsys.readouterr()
    assert "HelloFlow: 4 steps, 2 parameters: ok" in out
    assert err == ""


def test_check_warnings_pass_unless_strict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_flow(tmp_path, "maybe_flow", WARNING_ONLY)
    assert main(["check", str(path)]) == 0
    _, err = capsys.readouterr()
    assert "maybe_flow.py:20: warning: step 'end': reads self.x" in err
    assert main(["check", str(path), "--strict"]) == 1


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_examples_are_rejected_with_their_documented_codes(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Each file names the codes it must produce on its second line: "Expected: code, code".
    documented = path.read_text(encoding="utf-8").splitlines()[1]
    assert documented.startswith("Expected: ")
    codes = sorted(c.strip() for c in documented.removeprefix("Expected: ").split(","))
    assert main(["check", str(path)]) == 1
    _, err = capsys.readouterr()
    found = sorted(line.rsplit("[", 1)[1].rstrip("]") for line in err.splitlines() if line.endswith("]"))
    assert found == codes, err


def test_show_outline_json_and_mermaid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", str(HELLO)]) == 0
    outline = capsys.readouterr().out
    assert "start  foreach people -> greet" in outline
    assert "join   -> end  [joins start]" in outline
    assert main(["show", str(HELLO), "--json"]) == 0
    assert capsys.readouterr().out == build_ir(HELLO).to_json()
    assert main(["show", str(HELLO), "--mermaid"]) == 0
    diagram = capsys.readouterr().out
    assert diagram.startswith("flowchart TD\n")
    assert 'step_start -->|"foreach people"| step_greet' in diagram
    assert 'step_join(["join"])' in diagram


def test_show_of_a_broken_flow_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_flow(tmp_path, "broken", "class B(FlowSpec):\n    pass\n")
    assert main(["show", str(path)]) == 1
    assert "[missing-start]" in capsys.readouterr().err


def test_python_flow_file_check_and_show() -> None:
    checked = subprocess.run([sys.executable, str(HELLO), "check"], capture_output=True, text=True,
                             cwd=ROOT, timeout=60)
    assert checked.returncode == 0, checked.stderr
    assert "HelloFlow: 4 steps" in checked.stdout
    shown = subprocess.run([sys.executable, str(HELLO), "show", "--json"], capture_output=True, text=True,
                           cwd=ROOT, timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == build_ir(HELLO).to_json()
