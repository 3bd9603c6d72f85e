"""The one golden-file check of the test suite: ``FLOWC_REGENERATE=1`` rewrites, otherwise compare.

Every golden test (IR, Argo, Step Functions, Airflow, the generated docs matrix) goes through
:func:`assert_golden`, so one rule regenerates them all. Regenerate only for an intended change,
and say in the change which goldens moved and why.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["REGENERATE", "assert_golden"]

#: Read at import: the autouse fixture in tests/conftest.py removes FLOWC_* variables before each test.
REGENERATE = os.environ.get("FLOWC_REGENERATE") == "1"


def assert_golden(golden: Path, text: str) -> None:
    """``text`` equals the golden file ``golden`` (which ``FLOWC_REGENERATE=1`` writes first)."""
    if REGENERATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert golden.is_file(), f"no golden file {golden}: run the test with FLOWC_REGENERATE=1"
    assert text == golden.read_text(encoding="utf-8"), (
        f"{golden.name} differs from the golden file (FLOWC_REGENERATE=1 rewrites it, for an intended change)"
    )
