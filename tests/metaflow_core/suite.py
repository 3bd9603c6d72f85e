"""The test x graph cases of Metaflow's core suite, as its ``python3-all-local`` context selects them.

Cases come from the suite's own files: every ``MetaflowTest`` in ``tests/``, every graph in
``graphs/``, combined by Metaflow's ``FlowFormatter`` (imported from the suite's folder, not
copied); a combination the formatter calls invalid is not a case, as in ``run_tests.py``.
"""

from __future__ import annotations

import importlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.metaflow_core import aliases

__all__ = ["CONTEXT", "Case", "load_cases", "load_context"]

#: The context of ``contexts.json`` this adapter reproduces.
CONTEXT = "python3-all-local"

#: Tests left out, and why. Only Metaflow's plug-in machinery and ``@parallel`` (issue 18).
EXCLUDED_TESTS: dict[str, str] = {
    "ExtensionsTest": "Metaflow's plug-in machinery (metaflow_extensions: step decorator, toplevel "
    "module and config plug-ins of the test_org extension)",
    "FlowOptionsTest": "Metaflow's plug-in machinery (a flow-option plug-in of the test_org extension)",
    "CardExtensionsImportTest": "Metaflow's plug-in machinery (card plug-ins of the test_org extension)",
    "CardImportTest": "Metaflow's plug-in machinery (its card types come from the test_org extension's "
    "card plug-ins)",
    "BasicParallelTest": "@parallel (multi-node steps)",
    "ResumeUBFJoinTest": "@parallel (resumes a multi-node step's join)",
    "BasicUnboundedForeachTest": "Metaflow's plug-in machinery (its internal unbounded-foreach test "
    "plug-in, metaflow.plugins.InternalTestUnboundedForeachInput, the mechanism behind @parallel)",
    "NestedUnboundedForeachTest": "Metaflow's plug-in machinery (metaflow.plugins."
    "InternalTestUnboundedForeachInput, the mechanism behind @parallel)",
    "BasicUnboundedForeachResumeTest": "Metaflow's plug-in machinery (metaflow.plugins."
    "InternalTestUnboundedForeachInput, the mechanism behind @parallel)",
}

#: Graphs left out, and why.
EXCLUDED_GRAPHS: dict[str, str] = {"small-parallel": "@parallel (the graph's split is num_parallel=4)"}


@dataclass(frozen=True)
class Case:
    """One test x graph: its generated files, or why it does not run."""

    test: str
    graph: str
    flow_code: str
    check_code: str
    required_files: tuple[str, ...]
    should_fail: bool
    should_resume: bool
    resume_step: str | None
    excluded: str | None = None  # the reason it is not run (not counted)

    @property
    def name(self) -> str:
        return f"{self.test} x {self.graph}"


def load_context(suite: Path) -> dict[str, Any]:
    contexts = json.loads((suite / "contexts.json").read_text(encoding="utf-8"))["contexts"]
    return next(context for context in contexts if context["name"] == CONTEXT)


def _suite_on_path(suite: Path) -> None:
    aliases.install()
    for folder in (str(suite), str(suite / "tests")):
        if folder not in sys.path:
            sys.path.append(folder)


def _tests(suite: Path) -> list[Any]:
    """A MetaflowTest instance of every test class, as run_tests.py finds them."""
    from metaflow_test import MetaflowTest

    found = []
    for path in sorted((suite / "tests").glob("*.py")):
        if path.name.startswith("."):
            continue
        module = importlib.import_module(path.stem)
        for name in dir(module):
            obj = getattr(module, name)
            if name != "MetaflowTest" and isinstance(obj, type) and issubclass(obj, MetaflowTest):
                found.append(obj())
    return found


def load_cases(suite: Path) -> list[Case]:
    """Every valid test x graph of the context, excluded ones with their reason."""
    _suite_on_path(suite)
    from metaflow_test.formatter import FlowFormatter

    context = load_context(suite)
    disabled = set(context.get("disabled_tests", []))
    graphs = [
        json.loads(path.read_text(encoding="utf-8"))
        for path in sorted((suite / "graphs").glob("*.json"))
        if not path.name.startswith(".")
    ]
    cases = []
    for test in _tests(suite):
        test_name = type(test).__name__
        if test_name in disabled:
            continue  # the context does not run it for Metaflow either
        for graph in graphs:
            formatter = FlowFormatter(graph, test)
            if not formatter.valid:
                continue
            excluded = EXCLUDED_TESTS.get(test_name) or EXCLUDED_GRAPHS.get(graph["name"])
            cases.append(
                Case(
                    test=test_name,
                    graph=graph["name"],
                    flow_code=formatter.flow_code,
                    check_code=formatter.check_code,
                    required_files=tuple(formatter.copy_files),
                    should_fail=formatter.should_fail,
                    should_resume=formatter.should_resume,
                    resume_step=formatter.resume_step,
                    excluded=excluded,
                )
            )
    return cases
