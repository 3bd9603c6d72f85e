"""An interpreter like a plain Python image: the standard library plus chosen distributions, no flowc.

``python -m venv --without-pip`` gives a fresh interpreter whose ``site-packages`` is empty (and
which never sees this project's virtual environment, where flowc is installed in editable mode);
a ``.pth`` file then makes only the named distributions, and those they require, importable.
"""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

__all__ = ["bare_python"]


def _requirements(name: str, seen: set[str]) -> None:
    key = name.lower().replace("_", "-")
    if key in seen:
        return
    seen.add(key)
    for requirement in importlib.metadata.requires(name) or ():
        if "extra ==" in requirement:
            continue
        _requirements(re.split(r"[\s<>=!~;\[(]", requirement, maxsplit=1)[0], seen)


def _top_level_entries(distribution: str) -> set[Path]:
    """The packages and modules a distribution installed at the top of its ``site-packages``."""
    found = importlib.metadata.distribution(distribution)
    root = Path(found.locate_file(""))
    entries = set()
    for file in found.files or ():
        top = file.parts[0]
        if top.endswith((".dist-info", ".pth")) or top in ("..", "bin", "__pycache__"):
            continue
        entries.add(root / top)
    return entries


def bare_python(folder: Path, distributions: Iterable[str] = ()) -> Path:
    """Creates the interpreter in ``folder``; returns the path of its ``python``.

    Args:
        folder: a new directory for the environment.
        distributions: installed distributions (with their requirements) it may import, e.g.
            ``["boto3"]``; never flowc.
    """
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True, timeout=120)
    python = folder / "bin" / "python"
    wanted: set[str] = set()
    for name in distributions:
        _requirements(name, wanted)
    if "flowc" in wanted:
        raise ValueError("a bare interpreter never has flowc")
    if wanted:
        modules = folder / "importable"
        modules.mkdir()
        for distribution in sorted(wanted):
            for entry in _top_level_entries(distribution):
                (modules / entry.name).symlink_to(entry)
        site = subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        (Path(site) / "importable.pth").write_text(f"{modules}\n")
    return python
