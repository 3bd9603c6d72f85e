"""What Metaflow's own scripts (its core test suite's checkers) call, as they call it: ``python FLOW.py
--quiet dump|logs RUN_ID/STEP`` without the flow's name, ``dump --include/--private/--file``,
``for step in flow``, ``flow._graph`` and the ``metaflow.exception`` names under ``flowc.exception``."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conformance.matrix import REPO_ROOT

FLOW = """
from flowc import FlowSpec, step


class FormsFlow(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2]
        self._hidden = "private"
        self.next(self.each, foreach="items")

    @step
    def each(self):
        self.doubled = self.input * 2
        print("item", self.input)
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.doubled for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    FormsFlow()
"""


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("forms")
    (folder / "forms_flow.py").write_text(FLOW, encoding="utf-8")
    done = _python(folder, "forms_flow.py", "--quiet", "run", "--run-id-file", "run-id")
    assert done.returncode == 0, done.stderr
    return folder, (folder / "run-id").read_text()


def _python(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    env.pop("FLOWC_DATASTORE", None)
    return subprocess.run(
        [sys.executable, *args], cwd=folder, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_dump_of_a_step_to_a_pickle_file_without_the_flow_name(ran: tuple[Path, str]) -> None:
    folder, run_id = ran
    out = folder / "dumped.pkl"
    args = [
        "forms_flow.py",
        "dump",
        "--max-value-size",
        "1000000",
        "--include",
        "doubled",
        "--file",
        str(out),
    ]
    done = _python(folder, *args, f"{run_id}/each")
    assert done.returncode == 0, done.stderr
    dumped = pickle.loads(out.read_bytes())
    assert sorted(values["doubled"] for values in dumped.values()) == [2, 4]
    assert all(set(values) == {"doubled"} for values in dumped.values())
    # Keyed as Metaflow's dump keys them: run/step/task, no flow (its checkers put the flow in front).
    assert all(pathspec.startswith(f"{run_id}/each/") for pathspec in dumped)


def test_dump_shows_private_artifacts_only_when_asked(ran: tuple[Path, str]) -> None:
    folder, run_id = ran
    plain = _python(folder, "forms_flow.py", "dump", f"{run_id}/start")
    assert plain.returncode == 0 and "items" in plain.stdout and "_hidden" not in plain.stdout
    private = _python(folder, "forms_flow.py", "dump", "--private", f"{run_id}/start")
    assert "_hidden = 'private'" in private.stdout


def test_logs_with_metaflow_quiet_option_and_no_flow_name(ran: tuple[Path, str]) -> None:
    folder, run_id = ran
    done = _python(folder, "forms_flow.py", "--quiet", "logs", "--stdout", f"{run_id}/each")
    assert done.returncode == 0, done.stderr
    assert "item 1\n" in done.stdout and "item 2\n" in done.stdout
    # One stream asked for: printed on stdout, as Metaflow does (its checkers read it there).
    done = _python(folder, "forms_flow.py", "logs", "--stderr", f"{run_id}/each")
    assert done.returncode == 0 and done.stderr == ""


def test_a_flow_iterates_its_steps_and_offers_its_graph(tmp_path: Path) -> None:
    (tmp_path / "forms_flow.py").write_text(FLOW, encoding="utf-8")
    script = (
        "from forms_flow import FormsFlow\n"
        "flow = FormsFlow(use_cli=False)\n"
        "print(sorted(step.name for step in flow))\n"
        "graph = flow._graph\n"
        "start, join = graph['start'], graph['join']\n"
        "print(start.type, start.out_funcs, join.type, sorted(join.in_funcs))\n"
    )
    done = _python(tmp_path, "-c", script)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["['each', 'end', 'join', 'start']", "foreach ('each',) join ['each']"]


def test_metaflow_exception_names() -> None:
    from flowc.client import MetaflowNotFound
    from flowc.exception import ExternalCommandFailed, MetaflowException, MetaflowNamespaceMismatch

    assert issubclass(ExternalCommandFailed, MetaflowException)
    assert issubclass(MetaflowNamespaceMismatch, MetaflowNotFound)
    assert str(ExternalCommandFailed("catch me!")) == "catch me!"
