"""``from flowc import X`` gives the authoring and client API, whatever flowc modules were imported.

A submodule named like an exported name (``flowc/project.py`` beside the ``project`` decorator)
would replace the export as soon as anything imports it: ``from flowc import project`` would then
give a module, and ``@project(name=...)`` fail with "'module' object is not callable".
"""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import flowc
from tests.conformance.matrix import REPO_ROOT


def test_no_module_of_flowc_is_named_like_an_exported_name() -> None:
    modules = {info.name for info in pkgutil.iter_modules(flowc.__path__)}
    assert not modules & set(flowc.__all__)


def test_every_exported_name_is_the_api_object_after_importing_every_module() -> None:
    script = (
        "import importlib, pkgutil, types, flowc\n"
        "for info in pkgutil.walk_packages(flowc.__path__, 'flowc.'):\n"
        "    if not info.name.endswith('__main__'):\n"
        "        importlib.import_module(info.name)\n"
        "bad = [n for n in flowc.__all__ if isinstance(getattr(flowc, n), types.ModuleType)]\n"
        "print(bad)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO_ROOT, timeout=120, check=True
    )
    assert result.stdout.strip() == "[]", result.stdout + result.stderr


def test_metaflow_exception_names_are_exported() -> None:
    from flowc.client.objects import MetaflowNotFound

    assert importlib.import_module("flowc").MetaflowNotFound is MetaflowNotFound
