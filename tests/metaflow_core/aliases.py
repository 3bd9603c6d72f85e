"""The import switch: every Metaflow module path the suite imports, and the flowc module that offers it.

Metaflow's suite is used unchanged, so its own package (``metaflow_test``) and the flows its
formatter writes import ``metaflow.*``. Two mechanisms, one table:

* :func:`switch_imports` rewrites the *generated* files' text (``from metaflow.exception import``
  -> ``from flowc.exception import``, and the dotted name wherever the code spells it, e.g. the
  exception type name a check compares with ``"metaflow.exception.ExternalCommandFailed"``);
* :func:`install` adds an import hook for the suite's files that are imported, not generated
  (``metaflow_test/*.py``, ``tests/*.py``): ``import metaflow.X`` gives the flowc module of
  :data:`MODULES` itself (no copy, no wrapper).

A Metaflow path missing from the table fails to import, naming it: nothing is silently stubbed.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import re
import sys
import types
from collections.abc import Mapping

__all__ = ["MODULES", "install", "switch_imports"]

#: Metaflow module path -> the flowc module that offers the same names.
MODULES: Mapping[str, str] = {
    "metaflow": "flowc",
    "metaflow.client": "flowc.client",
    "metaflow.exception": "flowc.exception",
    "metaflow.metaflow_current": "flowc.authoring.current",
    "metaflow.util": "flowc.util",
    "metaflow.plugins.timeout_decorator": "flowc.task_runner.errors",
    "metaflow.plugins.catch_decorator": "flowc.task_runner.errors",
    "metaflow.includefile": "flowc.authoring.parameters",
    "metaflow.cards": "flowc.cards",
    "metaflow.plugins.cards.exception": "flowc.cards",
    "metaflow.plugins.cards.card_client": "flowc.cards",
    "metaflow.plugins.cards.card_modules.test_cards": "flowc.cards.test_cards",
}

_DOTTED = re.compile(r"\bmetaflow\b(?!_)(?:\.[A-Za-z_][A-Za-z0-9_]*)*")


def _flowc_path(metaflow_path: str) -> str | None:
    """The flowc module for a dotted Metaflow name, or for its longest module prefix + the rest."""
    parts = metaflow_path.split(".")
    for end in range(len(parts), 0, -1):
        target = MODULES.get(".".join(parts[:end]))
        if target is not None:
            return ".".join([target, *parts[end:]])
    return None


def switch_imports(code: str) -> str:
    """``code`` with every ``metaflow[.module][.Name]`` spelled as its flowc equivalent."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(0)
        return _flowc_path(name) or name

    return _DOTTED.sub(replace, code)


class _AliasLoader(importlib.abc.Loader):
    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        target = MODULES.get(spec.name)
        if target is None:  # an intermediate package (metaflow.plugins): empty, only holds children
            module = types.ModuleType(spec.name)
            module.__path__ = []
            return module
        return importlib.import_module(target)

    def exec_module(self, module: types.ModuleType) -> None:
        pass


class _MetaflowAliasFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname != "metaflow" and not fullname.startswith("metaflow."):
            return None
        holds_children = any(key.startswith(fullname + ".") for key in MODULES)
        if fullname in MODULES or holds_children:
            return importlib.machinery.ModuleSpec(fullname, _AliasLoader(), is_package=holds_children)
        return None


def install() -> None:
    """Makes ``import metaflow[.X]`` give flowc's modules in this process (idempotent)."""
    if not any(isinstance(finder, _MetaflowAliasFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _MetaflowAliasFinder())
