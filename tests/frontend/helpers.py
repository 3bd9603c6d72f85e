"""Helpers for front-end tests: write a flow source to a file and read its expected diagnostics.

A case marks each expected diagnostic on the line it must point at, with a trailing comment
``# expect: CODE STEP`` (``-`` for no step; several separated by ``,``).
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

HEADER = (
    "from flowc import (FlowSpec, IncludeFile, JSONType, Parameter, batch, card, catch, environment,\n"
    "                   kubernetes, project, resources, retry, schedule, secrets, step, timeout)\n"
)
_MARK = re.compile(r"#\s*expect:\s*(.+)$")


def write_flow(directory: Path, name: str, body: str, header: bool = True) -> Path:
    """Writes ``body`` (dedented, after the import header) to ``directory/name.py``."""
    path = directory / f"{name}.py"
    path.write_text((HEADER if header else "") + textwrap.dedent(body).lstrip("\n"), encoding="utf-8")
    return path


def expected_marks(path: Path) -> set[tuple[str, str | None, int]]:
    """(code, step, line) for every ``# expect:`` mark in the file."""
    marks: set[tuple[str, str | None, int]] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = _MARK.search(line)
        if not match:
            continue
        for item in match.group(1).split(","):
            code, _, step = item.strip().partition(" ")
            step = step.strip()
            marks.add((code, None if step in ("", "-") else step, number))
    return marks
