"""Wheels of a tiny package, built in the test (no network): ``tinypkg`` 1.0 and 2.0.

Each version's ``tinypkg.__version__`` says which one a step imported. A wheel is a zip with its
metadata and a RECORD of hashes (https://packaging.python.org/en/latest/specifications/binary-distribution-format/).
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path

__all__ = ["VERSIONS", "build_platform_wheels", "build_wheelhouse", "write_settings"]

VERSIONS = ("1.0", "2.0")


def _wheel(folder: Path, name: str, version: str, tag: str = "py3-none-any") -> Path:
    dist = f"{name}-{version}"
    files = {
        f"{name}/__init__.py": f"__version__ = {version!r}\n",
        f"{dist}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: flowc-tests\nRoot-Is-Purelib: true\n"
        f"Tag: {tag}\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    record.append(f"{dist}.dist-info/RECORD,,")
    files[f"{dist}.dist-info/RECORD"] = "\n".join(record) + "\n"
    path = folder / f"{dist}-{tag}.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for member, text in sorted(files.items()):
            archive.writestr(zipfile.ZipInfo(member, (2020, 1, 1, 0, 0, 0)), text)
    return path


def build_wheelhouse(folder: Path) -> Path:
    """``folder`` with tinypkg's wheels in it (served to uv and pip with ``--find-links``)."""
    folder.mkdir(parents=True, exist_ok=True)
    for version in VERSIONS:
        _wheel(folder, "tinypkg", version)
    return folder


def build_platform_wheels(folder: Path) -> Path:
    """``folder`` with ``tinynative`` 1.0 as two platform wheels (linux x86_64 and aarch64, CPython
    of this interpreter), each saying which one it is: what a lock for each platform must pick."""
    import sys

    folder.mkdir(parents=True, exist_ok=True)
    python = "cp{}{}".format(*sys.version_info[:2])
    for machine in ("x86_64", "aarch64"):
        _wheel(folder, "tinynative", "1.0", f"{python}-{python}-manylinux_2_17_{machine}")
    return folder


def write_settings(project: Path, wheelhouse: Path) -> None:
    """A ``flowc.toml`` in ``project`` resolving @pypi from ``wheelhouse`` only, no index."""
    (project / "flowc.toml").write_text(
        f'[pypi]\nno_index = true\nfind_links = ["{wheelhouse}"]\n', encoding="utf-8"
    )
