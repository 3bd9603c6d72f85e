"""Runs one test x graph on flowc as ``run_tests.py`` runs it on Metaflow in ``python3-all-local``.

In a fresh directory: the formatter's ``test_flow.py`` and ``check_flow.py`` with their imports
switched to flowc, then the run with the context's run options (its two ``--tag`` options, one
non-ASCII) and environment, through one of the context's two executors: ``cli``
(``python test_flow.py run``) or ``api`` (``flowc.Runner(...).run(...)``, see ``api_executor``);
``resume`` the same way when the test asks for it, then both checkers:
``python check_flow.py CliCheck RUN_ID ...`` (through flowc's CLI: ``dump``, ``logs``, ``tag``)
and ``MetadataCheck`` (through flowc's client API).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.metaflow_core import aliases
from tests.metaflow_core.suite import Case

__all__ = ["CHECKERS", "EXECUTORS", "REPO_ROOT", "Outcome", "run_case", "top_options"]

REPO_ROOT = Path(__file__).resolve().parents[2]

#: contexts.json's "checks": the checker classes of metaflow_test, run in this order.
CHECKERS = ("CliCheck", "MetadataCheck")

#: contexts.json's "executors" of the context, the ones this adapter knows how to run.
EXECUTORS = ("cli", "api")

#: The first lines of every generated file: the import switch for what the file imports from the
#: suite's own package (``metaflow_test`` imports ``metaflow.*`` modules).
PRELUDE = "from tests.metaflow_core import aliases as _flowc_aliases\n_flowc_aliases.install()\n"

#: Metaflow's top-level options of the context, and what each means on flowc. ``None``: nothing to
#: pass, for the reason given; flowc's own defaults already do what the option asks.
TOP_OPTIONS: dict[str, tuple[str | None, str]] = {
    "--metadata=local": (None, "flowc keeps run metadata in the datastore itself"),
    "--datastore=local": (None, "flowc's default datastore is local (.flowc in the working directory)"),
    "--environment=local": (None, "flowc runs steps in the current interpreter (no conda/pypi)"),
    "--event-logger=nullSidecarLogger": (None, "flowc has no sidecars"),
    "--no-pylint": (None, "flowc never runs pylint (its front end checks the flow)"),
    "--quiet": ("--quiet", "the same option"),
}


@dataclass(frozen=True)
class Outcome:
    case: Case
    executor: str  # "cli" or "api"
    passed: bool
    detail: str  # the first failing step's one-line reason ("" when passed)
    log: str  # every command with its output, for a failure's investigation

    @property
    def name(self) -> str:
        return f"{self.case.name} [{self.executor}]"


def top_options(context: dict[str, Any]) -> list[str]:
    """The context's top-level options as flowc options (KeyError on one this table lacks)."""
    return [flowc for option in context["top_options"] if (flowc := TOP_OPTIONS[option][0]) is not None]


def _environment(context: dict[str, Any], suite: Path) -> dict[str, str]:
    """run_tests.py's environment: no inherited variables but USER, PATH and these."""
    env = {"USER": os.environ.get("USER", "tester"), **context["env"]}
    env.update(
        {
            "LANG": "en_US.UTF-8",
            "LC_ALL": "en_US.UTF-8",
            "PATH": os.environ.get("PATH", "."),
            "PYTHONIOENCODING": "utf_8",
            # The adapter (for the import switch) and the suite's metaflow_test package, not copied.
            "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), str(suite)]),
            # Metaflow's METAFLOW_USER is the user runs are recorded under; flowc's is FLOWC_USER.
            "FLOWC_USER": context["env"]["METAFLOW_USER"],
        }
    )
    if "HOME" in os.environ:
        env["HOME"] = os.environ["HOME"]
    return env


def _write_files(case: Case, suite: Path, folder: Path) -> None:
    for name, code in (("test_flow.py", case.flow_code), ("check_flow.py", case.check_code)):
        coding, _, body = code.partition("\n")
        (folder / name).write_text(f"{coding}\n{PRELUDE}{aliases.switch_imports(body)}\n", encoding="utf-8")
    for name in case.required_files:
        shutil.copy2(suite / "tests" / name, folder / name)


def run_case(
    case: Case, suite: Path, context: dict[str, Any], executor: str = "cli", timeout: float = 600.0
) -> Outcome:
    """Runs ``case`` with ``executor`` in a temporary directory (removed afterwards) and returns
    how it went."""
    if executor not in EXECUTORS or executor not in context["executors"]:
        raise ValueError(f"executor {executor!r} is not one of the context's {context['executors']}")
    folder = Path(tempfile.mkdtemp(prefix="flowc_metaflow_core_"))
    log: list[str] = []
    env = _environment(context, suite)
    top = top_options(context)
    env["FLOWC_CORE_API_OPTIONS"] = json.dumps({"top": top, "run": context["run_options"]})

    def call(args: list[str]) -> subprocess.CompletedProcess[str]:
        # Its own session, so a command stopped at the timeout takes its task processes with it.
        process = subprocess.Popen(
            [sys.executable, "-B", *args],
            cwd=folder,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            start_new_session=True,
        )
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            stdout, _ = process.communicate()
            stderr = f"timed out after {timeout:.0f} s"
        done = subprocess.CompletedProcess(args, process.returncode, stdout, stderr)
        log.append(f"$ {' '.join(args)}  -> {done.returncode}\n{done.stdout}{done.stderr}")
        return done

    def outcome(passed: bool, detail: str = "") -> Outcome:
        return Outcome(case, executor, passed, detail, "\n".join(log))

    def last_line(done: subprocess.CompletedProcess[str]) -> str:
        """The line that says why: the runtime's "Run ... failed: ..." line, else the last one."""
        lines = [line.strip() for line in f"{done.stdout}\n{done.stderr}".splitlines() if line.strip()]
        lines = [line for line in lines if "Fix the cause" not in line]
        verdicts = [line for line in lines if re.match(r"(\d\d:\d\d:\d\d )?Run \S+ failed: ", line)]
        line = (verdicts or lines or [f"exit {done.returncode}"])[-1]
        return re.sub(r"^\d\d:\d\d:\d\d ", "", line)

    try:
        _write_files(case, suite, folder)
        run_options = ["--run-id-file", "run-id", *context["run_options"]]
        resume_step = [case.resume_step] if case.resume_step else []
        if executor == "cli":
            run = ["test_flow.py", *top, "run", *run_options]
            resume = ["test_flow.py", *top, "resume", *resume_step, *run_options]
        else:
            run = ["-m", "tests.metaflow_core.api_executor", "run"]
            resume = ["-m", "tests.metaflow_core.api_executor", "resume", *resume_step]
        done = call(run)
        if done.returncode and case.should_resume:
            done = call(resume)
            if done.returncode:
                return outcome(False, f"resume failed: {last_line(done)}")
        elif done.returncode and not case.should_fail:
            return outcome(False, f"run failed: {last_line(done)}")
        elif not done.returncode and case.should_fail:
            return outcome(False, "the run should have failed but succeeded")
        run_id_file = folder / "run-id"
        if not run_id_file.exists():
            return outcome(False, "no run-id file")
        run_id = run_id_file.read_text(encoding="utf-8")
        for checker in CHECKERS:
            done = call(["check_flow.py", checker, run_id, *top])
            if done.returncode:
                return outcome(False, f"{checker}: {last_line(done)}")
        return outcome(True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
