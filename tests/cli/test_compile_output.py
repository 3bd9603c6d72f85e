"""``flowc compile -o``: a file, an existing directory, or a new directory named with a trailing slash."""

from __future__ import annotations

from pathlib import Path

from flowc.cli import main

ROOT = Path(__file__).resolve().parents[2]
HELLO = ROOT / "examples" / "hello_flow.py"


def test_output_file(tmp_path: Path) -> None:
    target = tmp_path / "out" / "hello.yaml"
    assert main(["compile", str(HELLO), "--target", "argo", "-o", str(target)]) == 0
    assert target.read_text(encoding="utf-8").startswith("apiVersion: argoproj.io/v1alpha1")


def test_output_directory_existing_or_with_trailing_slash(tmp_path: Path) -> None:
    existing = tmp_path / "existing"
    existing.mkdir()
    assert main(["compile", str(HELLO), "--target", "argo", "-o", str(existing)]) == 0
    new = tmp_path / "new"
    assert main(["compile", str(HELLO), "--target", "airflow", "-o", f"{new}/"]) == 0
    assert [p.name for p in existing.iterdir()] == ["helloflow.workflowtemplate.yaml"]
    assert new.is_dir() and [p.suffix for p in new.iterdir()] == [".py"]


def test_without_output_a_single_document_goes_to_stdout(capsys) -> None:
    assert main(["compile", str(HELLO), "--target", "argo"]) == 0
    assert "kind: WorkflowTemplate" in capsys.readouterr().out
