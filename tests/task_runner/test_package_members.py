"""Unpacking a code package checks every member itself, on every Python (issue 19 item 12).

Python 3.11.0 to 3.11.3 have no tarfile "data" filter: there a member named ``../x`` or ``/x``, a
link or a device would be written outside the package cache. The bootstrap program (standard
library only) and :func:`flowc.task_runner.bootstrap.materialize_package` refuse them on every
interpreter: the program with one line and exit code 3. Each hostile package runs through the
program under every Python 3.11+ on this machine, with tarfile's filter and without it (deleted
from the module, as on 3.11.0-3.11.3).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from flowc.datastore.layout import package_key
from flowc.datastore.storage import open_storage
from flowc.task_runner.bootstrap import (
    BOOTSTRAP_ENV,
    BOOTSTRAP_SOURCE,
    PackageIntegrityError,
    materialize_package,
)


def _pythons() -> list[str]:
    """This interpreter and the other Python 3.11+ interpreters found here (Debian's, pyenv's)."""
    candidates = [sys.executable, "/usr/bin/python3.11"]
    candidates += [str(p) for p in sorted(Path("/root/.pyenv/versions").glob("3.1[1-9].*/bin/python3"))]
    found: dict[str, str] = {}
    for python in candidates:
        if os.path.exists(python):
            found.setdefault(os.path.realpath(python), python)
    return sorted(found.values())


def _member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "", data: bytes = b"x") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    info.mode = 0o644
    return info


HOSTILE = {
    "dotdot": [_member("../escaped.txt")],
    "nested-dotdot": [_member("pkg/../../escaped.txt")],
    "absolute": [_member("/tmp/flowc-escaped-absolute.txt")],
    "symlink-out": [_member("link", tarfile.SYMTYPE, "/etc"), _member("link/escaped.txt")],
    "symlink-dotdot": [_member("up", tarfile.SYMTYPE, "..")],
    "hardlink-out": [_member("hard", tarfile.LNKTYPE, "../../etc/passwd")],
    "device": [_member("null", tarfile.CHRTYPE)],
    "fifo": [_member("pipe", tarfile.FIFOTYPE)],
}


def _package(members: list[tarfile.TarInfo]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        archive.addfile(_member("MANIFEST.json", data=b"{}"), io.BytesIO(b"{}"))
        for member in members:
            archive.addfile(member, io.BytesIO(b"x") if member.type == tarfile.REGTYPE else None)
    return buffer.getvalue()


def _store(root: Path, data: bytes) -> str:
    sha = hashlib.sha256(data).hexdigest()
    open_storage(str(root)).write(package_key(sha), gzip.compress(data, mtime=0))
    return sha


def _outside_files(tmp_path: Path) -> set[str]:
    return {str(p) for p in tmp_path.rglob("*escaped*")} | {
        p for p in ("/tmp/flowc-escaped-absolute.txt",) if os.path.exists(p)
    }


@pytest.mark.parametrize("python", _pythons())
@pytest.mark.parametrize("without_filter", [False, True], ids=["with-data-filter", "without-data-filter"])
@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_the_bootstrap_refuses_a_member_that_escapes_in_one_line(
    tmp_path: Path, python: str, without_filter: bool, case: str
) -> None:
    datastore, cache = tmp_path / "store", tmp_path / "deep" / "cache"
    sha = _store(datastore, _package(HOSTILE[case]))
    prelude = "import tarfile; vars(tarfile).pop('data_filter', None); " if without_filter else ""
    launcher = prelude + f"import os; exec(os.environ[{BOOTSTRAP_ENV!r}])"
    env = {"PATH": os.environ["PATH"], BOOTSTRAP_ENV: BOOTSTRAP_SOURCE, "FLOWC_PACKAGE_CACHE": str(cache)}
    argv = [python, "-c", launcher, "flowc.task_runner", "--package", sha, "--datastore", str(datastore)]
    result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False, cwd=tmp_path)
    assert result.returncode == 3, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("flowc bootstrap: the code package"), result.stderr
    assert "(a package holds files and folders only)" in lines[0] or "member" in lines[0]
    assert not _outside_files(tmp_path)
    assert not (cache / sha).exists()  # nothing half-unpacked is left for the next task


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_materialize_refuses_a_member_that_escapes(tmp_path: Path, monkeypatch, case: str) -> None:
    monkeypatch.delattr(tarfile, "data_filter")  # as on Python 3.11.0-3.11.3
    datastore = tmp_path / "store"
    sha = _store(datastore, _package(HOSTILE[case]))
    with pytest.raises(PackageIntegrityError, match="member"):
        materialize_package(open_storage(str(datastore)), sha, cache_dir=tmp_path / "deep" / "cache")
    assert not _outside_files(tmp_path)
    assert not (tmp_path / "deep" / "cache" / sha).exists()
