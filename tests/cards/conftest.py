"""A `flowc run` of the card flow, shared by the CLI, client and browser tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

FLOW = Path(__file__).parent / "flows" / "card_flow.py"
REPO = Path(__file__).resolve().parents[2]


def flowc(*words: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m flowc WORDS`` in ``cwd``, with no FLOWC_* setting of the caller's (plus ``env``)."""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("FLOWC_")}, **(env or {})}
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run(
        [sys.executable, "-m", "flowc", *words],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
        check=False,
    )


@pytest.fixture(scope="session")
def card_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """(working directory, datastore, run id) of one `flowc run` of the card flow."""
    work = tmp_path_factory.mktemp("cards")
    datastore = str(work / "ds")
    done = flowc("run", str(FLOW), "--datastore", datastore, "--run-id-file", "run-id", cwd=work)
    assert done.returncode == 0, done.stderr
    return work, datastore, (work / "run-id").read_text().strip()
