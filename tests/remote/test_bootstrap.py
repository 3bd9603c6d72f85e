"""Running tasks from the code package alone: materialize_package and the fixed bootstrap."""

from __future__ import annotations

import ast
import concurrent.futures
import gzip
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from flowc.config import KEYS, env_name
from flowc.datastore.layout import package_key, task_key
from flowc.datastore.objects import load_artifact
from flowc.datastore.storage import NotFound, open_storage
from flowc.package import build_package, store_package
from flowc.task_runner.bootstrap import (
    BOOTSTRAP_ENV,
    BOOTSTRAP_SOURCE,
    LAUNCHER,
    PackageIntegrityError,
    bootstrap_command,
    materialize_package,
    package_flow_file,
)
from tests.helpers.bare_python import bare_python

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
    storage.delete(package_key(package.sha))  # a cached package costs no request
    assert materialize_package(storage, package.sha, cache) == folder


def test_materialize_refuses_corrupt_and_missing_packages(s3_root, stored, tmp_path):
    storage = open_storage(s3_root)
    wrong = "ab" * 32
    storage.write(package_key(wrong), b"not gzip data")
    with pytest.raises(PackageIntegrityError, match=f"package {wrong} .* is corrupt: cannot be decompressed"):
        materialize_package(storage, wrong, tmp_path / "cache")
    storage.write(package_key(wrong), gzip.compress(b"a tar of other bytes"))
    with pytest.raises(PackageIntegrityError, match=f"package {wrong} .* is corrupt: its tar hashes other"):
        materialize_package(storage, wrong, tmp_path / "cache")
    assert not (tmp_path / "cache" / wrong).exists()
    _, package = stored
    storage.write(package_key(package.sha), _flip_a_byte(package.stored))
    with pytest.raises(PackageIntegrityError, match=f"package {package.sha} .* is corrupt"):
        materialize_package(storage, package.sha, tmp_path / "cache")
    with pytest.raises(NotFound, match=f"no code package {'cd' * 32} in datastore {s3_root} "):
        materialize_package(storage, "cd" * 32, tmp_path / "cache")
    with pytest.raises(ValueError, match="not a package hash"):
        materialize_package(storage, "../../etc", tmp_path / "cache")


def _flip_a_byte(stored: bytes) -> bytes:
    """``stored`` with one byte of its compressed payload changed (as a damaged disk would)."""
    middle = len(stored) // 2
    return stored[:middle] + bytes([stored[middle] ^ 0xFF]) + stored[middle + 1 :]


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


def test_the_launcher_is_short_and_the_bootstrap_fixed_plain_python():
    args = ["--flow", "F", "--step", "start", "--run-id", "r", "--package", "0" * 64]
    command = bootstrap_command("flowc.task_runner", args)
    assert command == [*LAUNCHER, "flowc.task_runner", *args]
    assert len(LAUNCHER[2].encode()) < 64  # the argv is as short as python -m flowc.task_runner's
    compile(BOOTSTRAP_SOURCE, "<bootstrap>", "exec")
    # Argo substitutes {{...}} in workflow arguments, where the program travels (docs/targets.md).
    assert "{{" not in BOOTSTRAP_SOURCE and "}}" not in BOOTSTRAP_SOURCE
    # Airflow renders a pod's environment with Jinja (markers; a final newline is dropped), and
    # Kubernetes expands $(NAME) in environment values.
    assert not any(marker in BOOTSTRAP_SOURCE for marker in ("{%", "{#", "$("))
    assert not BOOTSTRAP_SOURCE.endswith("\n")
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(ast.parse(BOOTSTRAP_SOURCE))
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert imported - set(sys.stdlib_module_names) == {"boto3"}  # imported only for an S3 datastore
    # FLOWC_<KEY> variables are configuration: the program's variable must not read as one.
    assert BOOTSTRAP_ENV not in {env_name(key) for key in KEYS}


def _fresh_env(aws_env, cache: Path) -> dict[str, str]:
    """A child's environment: AWS settings, a package cache and the bootstrap, no other flowc
    settings, no PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWC_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(aws_env.env)
    env["FLOWC_PACKAGE_CACHE"] = str(cache)
    env[BOOTSTRAP_ENV] = BOOTSTRAP_SOURCE
    return env


def _launch(python: Path | str, url: str, sha: str, args: list[str]) -> list[str]:
    return bootstrap_command(
        "flowc.task_runner", [*args, "--package", sha, "--datastore", url], python=str(python)
    )


def _task_record(storage, run_id: str, step: str) -> dict:
    return json.loads(bytes(storage.read(task_key("RemoteFlow", run_id, step, step))))


@pytest.fixture(scope="module")
def image_python(tmp_path_factory) -> Path:
    """A fresh interpreter with boto3 (the user's dependency here) and no flowc: a bare image."""
    python = bare_python(tmp_path_factory.mktemp("image") / "env", ["boto3"])
    check = subprocess.run(
        [str(python), "-c", "import flowc"], cwd=tmp_path_factory.mktemp("empty"), capture_output=True
    )
    assert check.returncode != 0 and b"No module named 'flowc'" in check.stderr
    return python


def _task_argv(step: str, run_id: str = "r1") -> list[str]:
    return ["--flow", "RemoteFlow", "--step", step, "--run-id", run_id]


@pytest.mark.slow
def test_tasks_run_from_the_package_alone_in_an_empty_directory(stored, aws_env, tmp_path, image_python):
    storage, package = stored
    workdir = tmp_path / "empty"
    workdir.mkdir()
    cache = tmp_path / "cache"
    env = _fresh_env(aws_env, cache)
    # Both tasks through the fixed bootstrap, in an interpreter that cannot import flowc ...
    for step in ("start", "end"):
        command = _launch(image_python, storage.url, package.sha, _task_argv(step))
        done = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip().splitlines()[-1].startswith("FLOWC_CONTROL ")
    assert list(workdir.iterdir()) == []  # nothing written to the working directory
    assert [p.name for p in cache.iterdir()] == [package.sha]  # fetched and unpacked once
    started = _task_record(storage, "r1", "start")
    where = load_artifact(storage, started["artifacts"]["where"])
    assert where == str(cache / package.sha / "flowc" / "__init__.py")  # flowc of the package
    ended = _task_record(storage, "r1", "end")
    assert load_artifact(storage, ended["artifacts"]["doubled"]) == 98
    # ... and with ``python -m flowc.task_runner --package`` (an image with flowc), fresh cache.
    env["FLOWC_PACKAGE_CACHE"] = str(tmp_path / "other-cache")
    end = subprocess.run(
        [
            sys.executable,
            "-m",
            "flowc.task_runner",
            *_task_argv("end", "r2"),
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
    assert end.returncode == 2, end.stderr  # r2 has no start task: refused, after unpacking
    assert "start" in end.stderr
    assert (tmp_path / "other-cache" / package.sha / "remote_flow.py").is_file()


@pytest.mark.slow
def test_bootstrap_refuses_a_corrupt_package(s3_root, stored, aws_env, tmp_path, image_python):
    """Whatever the damage (not gzip, a flipped byte, another tar), the task ends in one line."""
    storage, package = stored
    sha = "ef" * 32
    cases = [
        (sha, b"tampered", "cannot be decompressed ("),
        (sha, gzip.compress(b"another tar"), "its tar hashes otherwise"),
        (package.sha, _flip_a_byte(package.stored), "cannot be decompressed ("),
        (package.sha, package.stored[:-100], "cannot be decompressed ("),
    ]
    for name, data, why in cases:
        storage.write(package_key(name), data)
        command = _launch(image_python, s3_root, name, _task_argv("start"))
        done = subprocess.run(
            command, cwd=tmp_path, env=_fresh_env(aws_env, tmp_path / "cache"), capture_output=True, text=True
        )
        assert done.returncode == 3
        prefix = f"flowc bootstrap: the code package {name} in {s3_root} is corrupt: {why}"
        assert done.stderr.startswith(prefix) and done.stderr.count("\n") == 1, done.stderr
        assert not (tmp_path / "cache" / name).exists()
        assert [p.name for p in (tmp_path / "cache").iterdir()] == []  # no staging folder left behind


@pytest.mark.slow
def test_bootstrap_fails_in_one_line_when_the_package_cannot_be_had(s3_root, aws_env, tmp_path, image_python):
    env = _fresh_env(aws_env, tmp_path / "cache")
    sha = "cd" * 32
    no_pip = bare_python(tmp_path / "no-boto3-no-pip")
    for command, start in [
        (_launch(image_python, s3_root, sha, _task_argv("start")), "cannot fetch the code package s3://"),
        (_launch(image_python, "s3://flowc-no-such-bucket/x", sha, _task_argv("start")), "cannot fetch"),
        (_launch(image_python, str(tmp_path / "nowhere"), sha, _task_argv("start")), "cannot read"),
        (_launch(image_python, s3_root, "not-a-hash", _task_argv("start")), "no code package given"),
        (_launch(no_pip, s3_root, sha, _task_argv("start")), "the image has no boto3 and pip could not"),
        (bootstrap_command("os", ["--package", sha], python=str(image_python)), "usage: MODULE"),
    ]:
        done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 3, done.stderr
        last = done.stderr.splitlines()[-1]
        assert "Traceback" not in done.stderr, done.stderr
        assert last.startswith(f"flowc bootstrap: {start}"), done.stderr


@pytest.mark.slow
def test_bootstrap_runs_a_flow_from_a_local_datastore_with_no_boto3(tmp_path):
    """A folder datastore (a shared volume; the Argo test executor) needs the standard library only."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "remote_flow.py").write_text(FLOW)
    (project / "shapes.py").write_text("def square(side):\n    return side * side\n")
    storage = open_storage(str(tmp_path / "ds"))
    package = build_package(project / "remote_flow.py")
    store_package(storage, package)
    python = bare_python(tmp_path / "image")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWC_", "PYTHON", "VIRTUAL_ENV"))}
    env.update({"FLOWC_PACKAGE_CACHE": str(tmp_path / "cache"), BOOTSTRAP_ENV: BOOTSTRAP_SOURCE})
    for step in ("start", "end"):
        command = _launch(python, storage.url, package.sha, _task_argv(step))
        done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    ended = _task_record(storage, "r1", "end")
    assert load_artifact(storage, ended["artifacts"]["doubled"]) == 98


@pytest.mark.slow
def test_bootstrap_installs_boto3_with_pip_when_the_image_has_none(stored, aws_env, tmp_path):
    """A plain ``python:3.11-slim``: no flowc, no boto3, only pip (PyPI reachable, as in CI)."""
    storage, package = stored
    image = tmp_path / "image"
    subprocess.run([sys.executable, "-m", "venv", str(image)], check=True, timeout=300)
    python = image / "bin" / "python"
    assert subprocess.run([str(python), "-c", "import boto3"], capture_output=True).returncode != 0
    cache = tmp_path / "cache"
    env = _fresh_env(aws_env, cache)
    for step in ("start", "end"):
        command = _launch(python, storage.url, package.sha, _task_argv(step, "pip"))
        done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in cache.iterdir()) == sorted(["boto3", package.sha])  # installed once
    assert load_artifact(storage, _task_record(storage, "pip", "end")["artifacts"]["doubled"]) == 98
