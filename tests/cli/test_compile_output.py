"""``flowc compile -o``: a file, an existing directory, or a new directory named with a trailing slash."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

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


SCHEDULED = """
    from flowc import FlowSpec, schedule, step


    @schedule(daily=True)
    class SchedFlow(FlowSpec):
        @step
        def start(self):
            self.next(self.end)

        @step
        def end(self):
            pass
    """


def _scheduled(tmp_path: Path) -> Path:
    path = tmp_path / "sched_flow.py"
    path.write_text(textwrap.dedent(SCHEDULED), encoding="utf-8")
    return path


def test_several_argo_documents_to_a_file_are_one_multi_document_yaml(tmp_path: Path) -> None:
    # A scheduled flow is a WorkflowTemplate and a CronWorkflow: `-o flow.yaml` is one file holding
    # both, as `kubectl apply -f flow.yaml` takes it (issue 18, item 10: it used to be a directory).
    import yaml

    target = tmp_path / "flow.yaml"
    assert main(["compile", str(_scheduled(tmp_path)), "--target", "argo", "-o", str(target)]) == 0
    assert target.is_file()
    documents = list(yaml.safe_load_all(target.read_text(encoding="utf-8")))
    assert [d["kind"] for d in documents] == ["WorkflowTemplate", "CronWorkflow"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no partial file left


def test_several_argo_documents_to_a_directory_are_one_file_each(tmp_path: Path) -> None:
    flow = _scheduled(tmp_path)
    assert main(["compile", str(flow), "--target", "argo", "-o", f"{tmp_path / 'out'}/"]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "schedflow.cronworkflow.yaml",
        "schedflow.workflowtemplate.yaml",
    ]


def test_several_argo_documents_to_stdout_are_one_stream(tmp_path: Path, capsys) -> None:
    import yaml

    assert main(["compile", str(_scheduled(tmp_path)), "--target", "argo"]) == 0
    documents = list(yaml.safe_load_all(capsys.readouterr().out))
    assert [d["kind"] for d in documents] == ["WorkflowTemplate", "CronWorkflow"]


@pytest.mark.parametrize(
    ("target", "name", "extra"),
    [
        ("airflow", "dag.py", []),
        ("sfn", "machine.json", ["--datastore", "s3://bucket/prefix"]),
    ],
)
def test_other_targets_write_a_file_or_a_directory(
    tmp_path: Path, target: str, name: str, extra: list[str]
) -> None:
    flow = _scheduled(tmp_path)
    assert main(["compile", str(flow), "--target", target, *extra, "-o", str(tmp_path / name)]) == 0
    assert (tmp_path / name).is_file()
    assert main(["compile", str(flow), "--target", target, *extra, "-o", f"{tmp_path / 'dir'}/"]) == 0
    assert len(list((tmp_path / "dir").iterdir())) == 1
