"""Running tasks from the code package alone: materialize_package and the fixed bootstrap."""

from __future__ import annotations

import concurrent.futures
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from flowc.datastore.layout import object_key, task_key
from flowc.datastore.objects import load_artifact
from flowc.datastore.storage import NotFound, open_storage
from flowc.package import build_package, store_package
from flowc.task_runner.bootstrap import (
    BOOTSTRAP_SOURCE,
    PackageIntegrityError,
    bootstrap_command,
    materialize_package,
    package_flow_file,
)

FLOW = textwrap.dedent(
    """
    import flowc
    import shapes
    from flowc import FlowSpec, step


    class RemoteFlow(FlowSpec):
        @step
        def start(self):
            self.where = flowc.__file__
            self.area = shapes.square(7)
            self.next(self.end)

        @step
        def end(self):
            self.doubled = self.area * 2
    """
)


@pytest.fixture
def flow_file(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    (project / "remote_flow.py").write_text(FLOW)
    (project / "shapes.py").write_text("def square(side):\n    return side * side\n")
    return project / "remote_flow.py"


@pytest.fixture
def stored(s3_root: str, flow_file: Path):
    storage = open_storage(s3_root)
    package = build_package(flow_file)
    store_package(storage, package)
    return storage, package


def test_materialize_unpacks_once_into_a_cache_keyed_by_hash(stored, tmp_path):
    storage, package = stored
    cache = tmp_path / "cache"
    folder = materialize_package(storage, package.sha, cache)
    assert folder == cache / package.sha
    assert package_flow_file(folder) == folder / "remote_flow.py"
    assert (folder / "shapes.py").read_text().startswith("def square")
    assert (folder / "flowc" / "task_runner" / "__main__.py").is_file()
    assert [p.name for p in cache.iterdir()] == [package.sha]  # no staging folder left behind
    storage.delete(object_key(package.sha))  # a cached package costs no request
    assert materialize_package(storage, package.sha, cache) == folder


def test_materialize_refuses_corrupt_and_missing_packages(s3_root, tmp_path):
    storage = open_storage(s3_root)
    wrong = "ab" * 32
    storage.write(object_key(wrong), b"not the bytes of that hash")
    with pytest.raises(PackageIntegrityError, match=f"package {wrong} .* is corrupt"):
        materialize_package(storage, wrong, tmp_path / "cache")
    assert not (tmp_path / "cache" / wrong).exists()
    with pytest.raises(NotFound):
        materialize_package(storage, "cd" * 32, tmp_path / "cache")
    with pytest.raises(ValueError, match="not a package hash"):
        materialize_package(storage, "../../etc", tmp_path / "cache")


def _materialize_in_child(args: tuple[str, str, str]) -> str:
    url, sha, cache = args
    code = (
        "import sys; from flowc.datastore.storage import open_storage;"
        "from flowc.task_runner.bootstrap import materialize_package;"
        "print(materialize_package(open_storage(sys.argv[1]), sys.argv[2], sys.argv[3]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, url, sha, cache], capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout.strip()


@pytest.mark.slow
def test_concurrent_materialize_is_safe(stored, tmp_path):
    storage, package = stored
    cache = tmp_path / "cache"
    jobs = [(storage.url, package.sha, str(cache))] * 4
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        folders = set(pool.map(_materialize_in_child, jobs))
    assert folders == {str(cache / package.sha)}
    assert [p.name for p in cache.iterdir()] == [package.sha]
    assert (cache / package.sha / "remote_flow.py").read_text() == FLOW


def test_bootstrap_command_is_short_fixed_and_plain_python():
    command = bootstrap_command("s3://b/p", "0" * 64, ["--flow", "F", "--step", "start", "--run-id", "r"])
    assert command[:3] == ["python", "-c", BOOTSTRAP_SOURCE]
    assert command[3:] == ["s3://b/p", "0" * 64, "--flow", "F", "--step", "start", "--run-id", "r"]
    assert len(BOOTSTRAP_SOURCE.encode()) < 1024
    compile(BOOTSTRAP_SOURCE, "<bootstrap>", "exec")
    with pytest.raises(ValueError):
        bootstrap_command("/local/path", "0" * 64, [])


def _fresh_env(aws_env, cache: Path) -> dict[str, str]:
    """A child's environment: AWS settings and a package cache, no flowc settings, no PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWC_", "PYTHON"))}
    env.update(aws_env.env)
    env["FLOWC_PACKAGE_CACHE"] = str(cache)
    return env


def _task_record(storage, run_id: str, step: str) -> dict:
    return json.loads(bytes(storage.read(task_key("RemoteFlow", run_id, step, "0"))))


@pytest.mark.slow
def test_tasks_run_from_the_package_alone_in_an_empty_directory(stored, aws_env, tmp_path):
    storage, package = stored
    workdir = tmp_path / "empty"
    workdir.mkdir()
    env = _fresh_env(aws_env, tmp_path / "cache")
    # The start task through the fixed bootstrap (what an image without flowc runs) ...
    argv = ["--flow", "RemoteFlow", "--step", "start", "--run-id", "r1"]
    command = bootstrap_command(storage.url, package.sha, argv, python=sys.executable)
    start = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=120)
    assert start.returncode == 0, start.stderr
    assert start.stdout.strip().splitlines()[-1].startswith("FLOWC_CONTROL ")
    # ... then the end task with ``python -m flowc.task_runner --package`` (an image with flowc).
    end = subprocess.run(
        [
            sys.executable,
            "-m",
            "flowc.task_runner",
            "--flow",
            "RemoteFlow",
            "--step",
            "end",
            "--run-id",
            "r1",
            "--package",
            package.sha,
            "--datastore",
            storage.url,
        ],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert end.returncode == 0, end.stderr
    assert list(workdir.iterdir()) == []  # nothing written to the working directory
    started = _task_record(storage, "r1", "start")
    where = load_artifact(storage, started["artifacts"]["where"])
    assert where == str(tmp_path / "cache" / package.sha / "flowc" / "__init__.py")  # flowc of the package
    ended = _task_record(storage, "r1", "end")
    assert load_artifact(storage, ended["artifacts"]["doubled"]) == 98


@pytest.mark.slow
def test_bootstrap_refuses_a_corrupt_package(s3_root, aws_env, tmp_path):
    storage = open_storage(s3_root)
    sha = "ef" * 32
    storage.write(object_key(sha), b"tampered")
    command = bootstrap_command(s3_root, sha, ["--flow", "F", "--step", "start", "--run-id", "r"])
    command[0] = sys.executable
    done = subprocess.run(
        command, cwd=tmp_path, env=_fresh_env(aws_env, tmp_path / "cache"), capture_output=True, text=True
    )
    assert done.returncode != 0
    assert f"package {sha} is corrupt" in done.stderr
    assert not (tmp_path / "cache" / sha).exists()
