"""The code package: what goes in, determinism, include/exclude, storage and ``flowc package``."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

import pytest

from flowc.cli import main
from flowc.config import load_settings
from flowc.datastore.layout import package_key
from flowc.datastore.storage import open_storage
from flowc.frontend import build_ir
from flowc.package import (
    CARD_ASSETS,
    IR_NAME,
    MANIFEST_NAME,
    NOT_FOR_TASKS,
    PackageError,
    build_package,
    local_imports,
    store_package,
)

FLOW = textwrap.dedent(
    """
    import json
    import numpy  # installed, not local
    import helpers
    from mypkg.sub import thing
    from flowc import FlowSpec, step


    class PkgFlow(FlowSpec):
        @step
        def start(self):
            self.x = helpers.value() + thing
            self.next(self.end)

        @step
        def end(self):
            pass
    """
)


def _project(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "flow.py").write_text(FLOW)
    (root / "helpers.py").write_text("import util\n\ndef value():\n    return util.ONE\n")
    (root / "util.py").write_text("ONE = 1\n")
    (root / "unused.py").write_text("NOT_IMPORTED = True\n")
    package = root / "mypkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("from .deep import thing\n")
    (package / "sub" / "deep.py").write_text("thing = 41\n")
    (package / "sub" / "table.csv").write_text("a,b\n1,2\n")
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"junk")
    (root / "data").mkdir()
    (root / "data" / "big.bin").write_bytes(b"\0" * 100)
    (root / "data" / "notes.txt").write_text("notes")
    return root / "flow.py"


def _members(data: bytes) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        return {member.name: member for member in archive.getmembers()}


def _no_settings():
    return load_settings(environ={}, start=Path("/"))


def test_local_imports_are_found_transitively(tmp_path):
    flow = _project(tmp_path)
    assert local_imports(flow) == [tmp_path / "helpers.py", tmp_path / "mypkg", tmp_path / "util.py"]


def test_package_holds_flow_local_code_and_flowc_only(tmp_path):
    package = build_package(_project(tmp_path), settings=_no_settings())
    names = set(package.files)
    assert {"flow.py", "helpers.py", "util.py", "mypkg/__init__.py", "mypkg/sub/deep.py"} <= names
    assert "mypkg/sub/table.csv" in names  # a local package goes in whole
    assert "unused.py" not in names and "data/big.bin" not in names
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in names)
    assert {"flowc/__init__.py", "flowc/task_runner/bootstrap.py", "flowc/package.py"} <= names
    manifest = json.loads(_member_bytes(package.tar, MANIFEST_NAME))
    assert manifest == {"flow_file": "flow.py", "format": 2, "ir": IR_NAME}
    # The IR the documents are compiled from travels with the code: tasks read it, not the source.
    assert _member_bytes(package.tar, IR_NAME).decode() == build_ir(str(tmp_path / "flow.py")).to_json()
    assert package.sha == hashlib.sha256(package.tar).hexdigest()


def test_package_leaves_out_what_tasks_never_load(tmp_path):
    """A task runs a compiled document: the compilers (Argo's 600 KB schema and its linter), the
    command line, the UI and the templates stay out of every package (issue 13 item 10)."""
    names = set(build_package(_project(tmp_path), settings=_no_settings()).files)
    left_in = sorted(name for name in names if name.startswith(NOT_FOR_TASKS))
    assert left_in == []
    assert not {"flowc/backends/argo/schema/schema.json", "flowc/backends/argo/lint.py"} & names
    assert not [name for name in names if name.startswith("flowc/cli/")]
    # Nor the local runtime's scheduler, Runner/Deployer, or card assets for a flow without @card.
    deploy_side = {"flowc/runtime/scheduler.py", "flowc/runner_api.py", "flowc/deployer_api.py"}
    assert not {*deploy_side, "flowc/environments/deploy.py"} & names
    assert not [name for name in names if name.startswith(CARD_ASSETS)]
    # What a task loads is there (the task runner, the authoring API, the client a step may use,
    # the runtime's plan and resume a task clones with).
    assert {
        "flowc/task_runner/runner.py",
        "flowc/authoring/flowspec.py",
        "flowc/client/objects.py",
        "flowc/runtime/resume.py",
    } <= names


def test_runner_and_deployer_in_a_deployed_task_fail_in_one_line(tmp_path):
    """A step of a deployed flow runs from the package alone: ``Runner``/``Deployer`` are not there
    and say so (the task's own modules import)."""
    package = build_package(_project(tmp_path / "project"), settings=_no_settings())
    unpacked = tmp_path / "unpacked"
    with tarfile.open(fileobj=io.BytesIO(package.tar)) as archive:
        archive.extractall(unpacked, filter="data")
    # -S: no site-packages, so flowc comes from the unpacked package (the working directory).
    probe = textwrap.dedent(
        f"""
        import flowc, flowc.task_runner.runner
        assert flowc.__file__.startswith({str(unpacked)!r}), flowc.__file__
        from flowc.cards import Markdown, get_cards  # any step may read or build a card
        for name in ("Runner", "Deployer"):
            try:
                getattr(flowc, name)
            except ImportError as exc:
                print(exc)
        """
    )
    done = subprocess.run([sys.executable, "-S", "-c", probe], cwd=unpacked, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    missing = "is not available inside a deployed task: the code package leaves out"
    assert done.stdout.splitlines() == [
        f"flowc.Runner {missing} flowc.runner_api",
        f"flowc.Deployer {missing} flowc.deployer_api",
    ]


def _member_bytes(data: bytes, name: str) -> bytes:
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        return archive.extractfile(name).read()


def test_entries_are_sorted_with_fixed_metadata(tmp_path):
    package = build_package(_project(tmp_path), settings=_no_settings())
    members = _members(package.tar)
    assert list(members) == sorted(members)
    for member in members.values():
        assert (member.mtime, member.uid, member.gid, member.uname, member.gname, member.mode) == (
            0,
            0,
            0,
            "",
            "",
            0o644,
        )
        assert member.isfile()


def test_same_sources_give_the_same_hash(tmp_path):
    first = _project(tmp_path / "one")
    built_once = build_package(first, settings=_no_settings())
    # A second copy elsewhere, with other mtimes and permissions: same sources, same bytes.
    shutil.copytree(tmp_path / "one", tmp_path / "two")
    for path in (tmp_path / "two").rglob("*"):
        os.utime(path, (1_000_000, 1_000_000))
    (tmp_path / "two" / "util.py").chmod(0o600)
    built_twice = build_package(tmp_path / "two" / "flow.py", settings=_no_settings())
    assert built_twice.sha == built_once.sha
    assert built_twice.tar == built_once.tar
    (tmp_path / "two" / "util.py").write_text("ONE = 2\n")
    assert build_package(tmp_path / "two" / "flow.py", settings=_no_settings()).sha != built_once.sha


def test_include_and_exclude_from_configuration_and_arguments(tmp_path):
    flow = _project(tmp_path)
    (tmp_path / "flowc.toml").write_text(
        'package.include = ["data/*"]\npackage.exclude = ["*.bin", "mypkg/sub/table.csv"]\n'
    )
    settings = load_settings(environ={}, start=tmp_path)
    names = set(build_package(flow, settings=settings).files)
    assert "data/notes.txt" in names
    assert "data/big.bin" not in names and "mypkg/sub/table.csv" not in names
    names = set(build_package(flow, settings=settings, include=["unused.py"], exclude=["helpers.py"]).files)
    assert "unused.py" in names and "helpers.py" not in names
    assert "flowc/package.py" in names  # flowc itself is never excluded


def test_missing_or_broken_flow_is_refused(tmp_path):
    with pytest.raises(PackageError, match="no flow file"):
        build_package(tmp_path / "none.py", settings=_no_settings())
    (tmp_path / "bad.py").write_text("def (:\n")
    with pytest.raises(PackageError, match=r"bad\.py:1: syntax error"):
        build_package(tmp_path / "bad.py", settings=_no_settings())


def test_stored_gzip_compressed_named_by_the_hash_of_the_tar(s3_root):
    """The datastore holds the tar gzip-compressed (mtime 0, no file name); the name is the tar's
    hash, which no zlib build changes (issue 13 item 10: a one-file flow's package under 500 KB)."""
    storage = open_storage(s3_root)
    package = build_package(Path(__file__).parents[1] / "conformance" / "flows" / "linear_flow.py")
    url = store_package(storage, package)
    assert url == f"{s3_root}/{package_key(package.sha)}"
    stored = bytes(storage.read(package_key(package.sha)))
    assert stored == package.stored and package.size == len(stored) < len(package.tar) / 3
    assert stored[:2] == b"\x1f\x8b" and stored[3:8] == b"\0\0\0\0\0"  # gzip: no FNAME flag, mtime 0
    assert gzip.decompress(stored) == package.tar
    assert hashlib.sha256(package.tar).hexdigest() == package.sha
    assert store_package(storage, package) == url  # idempotent
    # Another zlib build's bytes (here: another level) are as good: an intact copy stays ...
    other = gzip.compress(package.tar, compresslevel=1, mtime=0)
    storage.write(package_key(package.sha), other)
    store_package(storage, package)
    assert bytes(storage.read(package_key(package.sha))) == other
    # ... and a damaged one is replaced: deploying again repairs it.
    storage.write(package_key(package.sha), stored[:-9])
    store_package(storage, package)
    assert bytes(storage.read(package_key(package.sha))) == package.stored


def test_a_one_file_flow_package_is_under_500_kb():
    """Issue 13 item 10's goal; bench/RESULTS.md has the figures."""
    hello = Path(__file__).parents[2] / "examples" / "hello_flow.py"
    assert build_package(hello).size < 500_000


def test_flowc_package_command_prints_url_and_hash(s3_root, tmp_path, capsys):
    flow = _project(tmp_path)
    assert main(["package", str(flow), "--datastore", s3_root]) == 0
    out = capsys.readouterr().out.splitlines()
    sha = out[0].split()[1]
    assert out[0] == f"sha256 {sha}" and len(sha) == 64
    assert out[1] == f"url    {s3_root}/packages/{sha}/code.tar.gz"
    stored = bytes(open_storage(s3_root).read(package_key(sha)))
    assert hashlib.sha256(gzip.decompress(stored)).hexdigest() == sha
    assert main(["package", str(flow), "--datastore", s3_root, "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["sha"] == sha and "helpers.py" in summary["files"]


def test_flowc_package_command_reports_a_missing_flow(tmp_path, capsys):
    assert main(["package", str(tmp_path / "none.py"), "--dry-run"]) == 2
    assert "no flow file" in capsys.readouterr().err


def test_flowc_package_command_with_a_local_datastore(tmp_path, monkeypatch, capsys):
    flow = _project(tmp_path / "project")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FLOWC_DATASTORE", "store")
    assert main(["package", str(flow)]) == 0
    sha = capsys.readouterr().out.split()[1]
    stored = tmp_path / "store" / "packages" / sha / "code.tar.gz"
    assert hashlib.sha256(gzip.decompress(stored.read_bytes())).hexdigest() == sha


def test_imports_inside_function_bodies_and_relative_imports_are_followed(tmp_path):
    (tmp_path / "lazy_flow.py").write_text(
        textwrap.dedent(
            """
            from flowc import FlowSpec, step


            class LazyFlow(FlowSpec):
                @step
                def start(self):
                    import sibling  # only imported when the step runs

                    self.x = sibling.X
                    self.next(self.end)

                @step
                def end(self):
                    from tools.inner import helper

                    helper()
            """
        )
    )
    (tmp_path / "sibling.py").write_text("def later():\n    import deep_sibling\n\nX = 1\n")
    (tmp_path / "deep_sibling.py").write_text("")
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "__init__.py").write_text("from . import inner\n")
    (tools / "inner.py").write_text("from .shared import helper\nimport top_level_from_package\n")
    (tools / "shared.py").write_text("def helper():\n    pass\n")
    (tmp_path / "top_level_from_package.py").write_text("")
    names = set(build_package(tmp_path / "lazy_flow.py", settings=_no_settings()).files)
    assert {
        "sibling.py",
        "deep_sibling.py",
        "tools/__init__.py",
        "tools/inner.py",
        "tools/shared.py",
        "top_level_from_package.py",
    } <= names


def test_a_module_wins_over_a_folder_without_init_as_python_resolves_them(tmp_path):
    # ``import models`` with models.py beside a models/ folder of scripts (no __init__.py):
    # Python imports models.py (a namespace package only when no module or package exists).
    (tmp_path / "flow.py").write_text(
        "import models\nimport scripts\n"
        + FLOW.split("import helpers\n")[1]
        .replace("from mypkg.sub import thing\n", "")
        .replace("helpers.value() + thing", "1")
    )
    (tmp_path / "models.py").write_text("WEIGHTS = 1\n")
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "train_offline.py").write_text("")
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "run.py").write_text("")  # a real namespace package: packaged
    names = set(build_package(tmp_path / "flow.py", settings=_no_settings()).files)
    assert "models.py" in names
    assert "models/train_offline.py" not in names
    assert "scripts/run.py" in names


def test_includes_outside_the_flow_directory_are_refused_clearly(tmp_path):
    project = tmp_path / "project"
    flow = _project(project)
    (tmp_path / "secret.txt").write_text("outside")
    for pattern in ["../secret.txt", "../*", str(tmp_path / "secret.txt"), ""]:
        with pytest.raises(PackageError, match=r"package\.include"):
            build_package(flow, settings=_no_settings(), include=[pattern])


def test_a_symbolic_link_goes_in_under_its_own_name(tmp_path):
    project = tmp_path / "project"
    flow = _project(project)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "shared.csv").write_text("x,y\n")
    (project / "shared.csv").symlink_to(elsewhere / "shared.csv")
    package = build_package(flow, settings=_no_settings(), include=["*.csv"])
    assert _member_bytes(package.tar, "shared.csv") == b"x,y\n"
    assert str(tmp_path).encode() not in package.tar  # no machine path, in names or contents


def test_flowc_package_uses_the_working_directory_configuration_for_s3_too(
    s3_root, aws_env, tmp_path, monkeypatch, capsys
):
    # The datastore and the S3 endpoint come from one configuration: the nearest project file from
    # the working directory up, as for every other command (run, compile, deploy, the client API),
    # not a project file beside the flow.
    import boto3

    from flowc.datastore.s3 import parse_s3_url
    from tests.helpers.servers import free_port

    flow = _project(tmp_path / "project")
    (tmp_path / "project" / "flowc.toml").write_text("[s3]\nretry_seconds = 1\n")
    here = tmp_path / "here"
    here.mkdir()
    (here / "flowc.toml").write_text(f'datastore = "{s3_root}"\n[s3]\nendpoint_url = "{aws_env.endpoint}"\n')
    monkeypatch.chdir(here)
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")  # nothing listens
    assert main(["package", str(flow)]) == 0, capsys.readouterr().err
    sha = capsys.readouterr().out.split()[1]
    bucket, prefix = parse_s3_url(s3_root)
    client = boto3.client("s3", endpoint_url=aws_env.endpoint)
    stored = client.get_object(Bucket=bucket, Key=f"{prefix}/{package_key(sha)}")["Body"].read()
    assert hashlib.sha256(gzip.decompress(stored)).hexdigest() == sha
