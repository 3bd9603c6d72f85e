"""``@project``: the branch a run belongs to, chosen once (flowc.project_branches) and seen by every step."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from flowc.client import Run
from flowc.config import load_settings
from flowc.frontend import build_ir
from flowc.project_branches import (
    BRANCH_ENV,
    Branch,
    branch_from_environment,
    project_branch,
    task_environment,
)
from tests.conformance.matrix import FLOWS_DIR, REPO_ROOT

FLOW = FLOWS_DIR / "project_flow.py"


def _settings(**values: object):
    return load_settings(dict(values), environ={})


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, Branch("user.alice", production=False)),
        ({"project.branch": "feat_x"}, Branch("test.feat_x", production=False)),
        ({"project.production": True}, Branch("prod", production=True)),
        ({"project.production": True, "project.branch": "canary"}, Branch("prod.canary", production=True)),
    ],
)
def test_branches_follow_metaflows_scheme(values: dict, expected: Branch) -> None:
    assert project_branch(_settings(**values), environ={"USER": "alice"}) == expected


def test_flowc_user_names_the_user_branch() -> None:
    assert project_branch(_settings(), environ={"FLOWC_USER": "ci", "USER": "root"}).name == "user.ci"


def test_a_branch_name_metaflow_refuses_is_refused() -> None:
    with pytest.raises(ValueError, match="may hold only"):
        project_branch(_settings(**{"project.branch": "a b"}))


def test_task_environment_carries_the_branch_only_under_project(tmp_path: Path) -> None:
    plain = tmp_path / "plain_flow.py"
    plain.write_text(FLOW.read_text().replace('@project(name="shop")\n', ""))
    settings = _settings(**{"project.branch": "x"})
    assert task_environment(build_ir(str(FLOW)), settings) == {BRANCH_ENV: "test.x"}
    assert task_environment(build_ir(str(plain)), settings) == {}
    assert branch_from_environment({BRANCH_ENV: "prod.canary"}) == Branch("prod.canary", production=True)
    assert branch_from_environment({}) is None


def _run(tmp_path: Path, *extra: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWC_")}
    child_env.update(env or {})
    child_env["PYTHONPATH"] = str(REPO_ROOT)
    command = [sys.executable, "-m", "flowc", "run", str(FLOW), "--datastore", str(tmp_path / "ds")]
    command += ["--run-id-file", str(tmp_path / "id"), *extra]
    return subprocess.run(command, capture_output=True, text=True, env=child_env, timeout=120, check=False)


def _facts(tmp_path: Path) -> dict:
    run_id = (tmp_path / "id").read_text()
    return Run(f"ProjectFlow/{run_id}", datastore=str(tmp_path / "ds"), _namespace_check=False).data.facts


@pytest.mark.parametrize("executor", ["fork", "subprocess"])
@pytest.mark.parametrize(
    ("extra", "branch", "production"),
    [
        ((), "user.alice", False),
        (("--branch", "feat"), "test.feat", False),
        (("--production",), "prod", True),
    ],
)
def test_steps_see_the_runs_branch(
    tmp_path: Path, executor: str, extra: tuple[str, ...], branch: str, production: bool
) -> None:
    result = _run(tmp_path, "--executor", executor, *extra, env={"FLOWC_USER": "alice"})
    assert result.returncode == 0, result.stderr
    assert _facts(tmp_path) == {
        "project_name": "shop",
        "branch_name": branch,
        "is_production": production,
        "project_flow_name": f"shop.{branch}.ProjectFlow",
    }


def test_a_bad_branch_stops_the_run_before_any_task(tmp_path: Path) -> None:
    result = _run(tmp_path, "--branch", "no spaces")
    assert result.returncode == 2
    assert "may hold only" in result.stderr
    assert not (tmp_path / "id").exists()
