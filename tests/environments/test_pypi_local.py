"""``@pypi`` / ``@pypi_base`` under ``flowc run`` and ``flowc env`` (issue 17), with no network:
tinypkg's wheels are built in the test and served with ``--find-links`` (``pypi.find_links``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from flowc.client import Flow, namespace
from flowc.frontend import CompileError, build_ir
from tests.environments.wheels import build_wheelhouse, write_settings

FLOWS = Path(__file__).parent / "flows"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A folder with the flow, a flowc.toml resolving from a local wheelhouse, its own caches."""
    folder = tmp_path / "project"
    folder.mkdir()
    write_settings(folder, build_wheelhouse(tmp_path / "wheels"))
    shutil.copy(FLOWS / "pypi_versions.py", folder / "flow.py")
    return folder


def flowc(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "FLOWC_PACKAGE_CACHE": str(project.parent / "cache")}
    environ.pop("FLOWC_DATASTORE", None)
    return subprocess.run(
        [sys.executable, "-m", "flowc", *args], cwd=project, env=environ, capture_output=True, text=True
    )


@pytest.mark.parametrize("executor", ["fork", "subprocess"])
def test_each_step_imports_its_own_version_and_the_client_shows_the_lock(project: Path, executor: str):
    done = flowc(project, "run", "flow.py", "--executor", executor)
    assert done.returncode == 0, done.stderr
    namespace(None)
    run = Flow("PypiVersionsFlow", datastore=str(project / ".flowc")).latest_run
    assert run["start"].task["start_version"].data == "1.0"  # @pypi_base
    assert run["second"].task["second_version"].data == "2.0"  # @pypi wins over @pypi_base
    assert run["end"].task["end_version"].data is None  # @pypi(disabled=True): no environment
    lock = run["second"].task.environment
    assert [(w["name"], w["version"]) for w in lock["wheels"]] == [("tinypkg", "2.0")]
    assert lock["requirements"] == ["tinypkg==2.0"] and len(lock["wheels"][0]["sha256"]) == 64
    assert run["end"].task.environment is None
    if executor == "fork":  # flowc ui's task page names the environment and its lock
        from starlette.testclient import TestClient

        from flowc.ui.app import create_app

        client = TestClient(create_app(str(project / ".flowc")))
        task = client.get(f"/api/flows/PypiVersionsFlow/runs/{run.id}/steps/second/tasks/second").json()
        used = task["attempts"][-1]["environment"]
        assert used["name"] == lock["environment"] and len(used["lock"]) == 64
    # A second run reuses the locks and the installed environments: nothing is resolved again.
    again = flowc(project, "run", "flow.py")
    assert again.returncode == 0, again.stderr
    assert "resolving environment" not in again.stdout + again.stderr


def test_env_resolve_and_show_print_the_locks(project: Path) -> None:
    shown = flowc(project, "env", "show", "flow.py")
    assert shown.returncode == 0, shown.stderr
    assert "not resolved" in shown.stdout
    resolved = flowc(project, "env", "resolve", "flow.py", "--json")
    assert resolved.returncode == 0, resolved.stderr
    rows = json.loads(resolved.stdout)
    assert {tuple(r["steps"]): r["lock"]["wheels"][0]["version"] for r in rows} == {
        ("start",): "1.0",
        ("second",): "2.0",
    }
    shown = flowc(project, "env", "show", "flow.py")
    assert "tinypkg==2.0  tinypkg-2.0-py3-none-any.whl  sha256:" in shown.stdout


def test_an_unresolvable_spec_fails_before_any_task_naming_step_and_package(project: Path) -> None:
    flow = project / "flow.py"
    flow.write_text(flow.read_text().replace('"tinypkg": "2.0"', '"tinypkg": "9.9"'))
    done = flowc(project, "run", "flow.py")
    assert done.returncode != 0
    assert "step second" in done.stderr and "tinypkg==9.9" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (project / ".flowc" / "runs").exists()  # no run was created, no task started


def test_another_python_is_refused_before_anything_is_resolved(project: Path) -> None:
    other = "3.9" if sys.version_info[:2] != (3, 9) else "3.10"
    flow = project / "flow.py"
    flow.write_text(flow.read_text().replace('{"tinypkg": "2.0"}', f'{{"tinypkg": "2.0"}}, python="{other}"'))
    done = flowc(project, "run", "flow.py")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"step second asks for Python {other}" in done.stderr
    assert "run flowc with that Python" in done.stderr
    assert "resolving" not in done.stdout + done.stderr  # refused before any lock, run or task
    assert not (project / ".flowc" / "runs").exists()


def test_a_corrupt_wheel_in_the_wheelhouse_is_detected_by_its_hash(project: Path) -> None:
    assert flowc(project, "env", "resolve", "flow.py").returncode == 0
    objects = project / ".flowc" / "objects"
    wheel = next(p for p in objects.rglob("*") if p.is_file() and p.read_bytes()[:2] == b"PK")
    wheel.write_bytes(wheel.read_bytes()[:-10] + b"corrupted!")
    done = flowc(project, "run", "flow.py")
    assert done.returncode != 0
    assert "is corrupt in the wheelhouse" in done.stderr and "tinypkg-" in done.stderr


def test_pypi_base_and_pypi_merge_as_in_metaflow(tmp_path: Path) -> None:
    flow = tmp_path / "merge.py"
    flow.write_text(
        "from flowc import FlowSpec, pypi, pypi_base, step\n\n\n"
        "@pypi_base(packages={'a': '1', 'b': '>=2'}, python='3.11')\n"
        "class MergeFlow(FlowSpec):\n"
        "    @pypi(packages={'b': '3', 'c': ''}, python='3.12.1')\n"
        "    @step\n"
        "    def start(self):\n"
        "        self.next(self.end)\n\n"
        "    @step\n"
        "    def end(self):\n"
        "        pass\n"
    )
    ir = build_ir(flow)
    start, end = ir.step("start").python_environment, ir.step("end").python_environment
    assert start.requirements == ("a==1", "b==3", "c") and start.python == "3.12"
    assert end.requirements == ("a==1", "b>=2") and end.python == "3.11"
    assert start.name.startswith("pypi-") and start.name != end.name
    assert build_ir(flow).step("end").python_environment.name == end.name  # offline, deterministic


def test_a_pypi_base_of_a_base_flow_in_another_file_is_inherited(project: Path) -> None:
    """As in Metaflow, a flow decorator of a base flow applies to the flows that subclass it."""
    for name in ("inherited_packages.py", "shared_packages.py"):
        shutil.copy(FLOWS / name, project / name)
    done = flowc(project, "run", "inherited_packages.py")
    assert done.returncode == 0, done.stderr
    namespace(None)
    run = Flow("InheritedPackagesFlow", datastore=str(project / ".flowc")).latest_run
    assert run["start"].task["version"].data == "1.0"
    assert run["start"].task.environment["requirements"] == ["tinypkg==1.0"]


def test_a_bad_inherited_flow_decorator_is_refused_in_its_own_file(tmp_path: Path) -> None:
    (tmp_path / "base.py").write_text(
        "from flowc import FlowSpec, pypi_base\n\n\n"
        "@pypi_base(packages={'tinypkg': 1})\nclass Base(FlowSpec):\n    pass\n"
    )
    flow = tmp_path / "flow.py"
    flow.write_text(
        "from base import Base\n\nfrom flowc import step\n\n\nclass ChildFlow(Base):\n"
        "    @step\n    def start(self):\n        self.next(self.end)\n\n"
        "    @step\n    def end(self):\n        pass\n"
    )
    with pytest.raises(CompileError) as raised:
        build_ir(flow)
    assert "base.py:4: @pypi_base: the version of tinypkg" in str(raised.value)


@pytest.mark.parametrize("name", ["conda", "conda_base"])
def test_conda_is_refused_with_a_hint_to_pypi(tmp_path: Path, name: str) -> None:
    on_class = name.endswith("_base")
    flow = tmp_path / "conda.py"
    flow.write_text(
        f"from flowc import FlowSpec, step, {name}\n\n\n"
        + (f"@{name}(libraries={{'numpy': '2.0'}})\n" if on_class else "")
        + "class CondaFlow(FlowSpec):\n"
        + ("" if on_class else f"    @{name}(libraries={{'numpy': '2.0'}})\n")
        + "    @step\n    def start(self):\n        self.next(self.end)\n\n"
        "    @step\n    def end(self):\n        pass\n"
    )
    with pytest.raises(CompileError) as raised:
        build_ir(flow)
    assert f"@{name}" in str(raised.value) and "@pypi" in str(raised.value)


ISOLATED = """
from flowc import FlowSpec, pypi, step
{top}

class IsolatedFlow(FlowSpec):
    @pypi(packages={{"tinypkg": "1.0"}})
    @step
    def start(self):
        import tinypkg  # declared: from the environment
        import json  # the standard library
        from flowc import current  # flowc
        try:
            import jsonschema  # installed beside flowc, not declared
        except ImportError as exc:
            self.undeclared = str(exc)
        else:
            self.undeclared = None
        self.seen = (tinypkg.__version__, json.__name__, current.step_name)
        self.next(self.end)

    @step
    def end(self):
        import jsonschema  # a step without @pypi has the interpreter's packages

        self.plain = jsonschema.__name__
"""


@pytest.mark.parametrize("executor", ["fork", "subprocess"])
def test_a_pypi_step_cannot_import_a_package_it_does_not_declare(project: Path, executor: str) -> None:
    """As in Metaflow (and a pod without it): a package beside flowc, but not in the step's
    environment, is not importable; the standard library, flowc and the environment are."""
    (project / "isolated.py").write_text(ISOLATED.format(top=""))
    done = flowc(project, "run", "isolated.py", "--executor", executor)
    assert done.returncode == 0, done.stderr
    namespace(None)
    run = Flow("IsolatedFlow", datastore=str(project / ".flowc")).latest_run
    start = run["start"].task
    assert start["seen"].data == ("1.0", "json", "start")
    message = start["undeclared"].data
    assert "No module named 'jsonschema'" in message and "@pypi" in message
    assert start.environment["environment"] in message
    assert run["end"].task["plain"].data == "jsonschema"


def test_a_flow_module_importing_an_undeclared_package_fails_the_pypi_step(project: Path) -> None:
    """The runtime imported the flow, and with it jsonschema: a forked task would have it, so the
    @pypi step runs as a fresh process, whose import of the flow meets the guard (as Metaflow's
    task, which imports the flow in the environment's interpreter)."""
    (project / "isolated.py").write_text(ISOLATED.format(top="import jsonschema  # noqa: F401\n"))
    done = flowc(project, "run", "isolated.py")
    assert done.returncode != 0
    assert "No module named 'jsonschema' in the @pypi environment" in done.stdout + done.stderr


def test_a_guarded_pypi_step_still_uses_flowcs_own_dependencies(project: Path, s3_root: str) -> None:
    """Under the import guard, flowc's task runner still imports boto3 and botocore (an S3
    datastore on moto) in a @pypi step, and so may the step (flowc's dependencies stay importable)."""
    (project / "s3flow.py").write_text(
        "from flowc import FlowSpec, pypi, step\n\n\nclass S3PypiFlow(FlowSpec):\n"
        "    @pypi(packages={'tinypkg': '2.0'})\n    @step\n    def start(self):\n"
        "        import boto3\n        import tinypkg\n\n"
        "        self.seen = (tinypkg.__version__, boto3.__name__)\n        self.next(self.end)\n\n"
        "    @step\n    def end(self):\n        pass\n",
        encoding="utf-8",
    )
    done = flowc(project, "run", "s3flow.py", "--datastore", s3_root)
    assert done.returncode == 0, done.stderr
    namespace(None)
    run = Flow("S3PypiFlow", datastore=s3_root).latest_run
    assert run["start"].task["seen"].data == ("2.0", "boto3")
