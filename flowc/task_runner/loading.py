"""Loading a flow for one task: its IR (from the source, never from running it) and its class.

The flow module is imported by path under a private module name (``_flowc_flow_<Flow>``), so its
``if __name__ == "__main__":`` block does not run. The name depends only on the flow's name, so
objects of classes defined in the flow file pickle and unpickle alike in every task.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowc.ir import FlowIR
from flowc.task_runner.errors import BadInput

__all__ = ["LoadedFlow", "find_flow_file", "load_flow", "module_name"]


@dataclass(frozen=True)
class LoadedFlow:
    """A flow ready to run: its IR, its class and the file it came from."""

    ir: FlowIR
    flow_class: type
    path: str

    def parameter_attributes(self) -> dict[str, str]:
        """``{parameter name: class attribute}`` (the attribute is the artifact's name, as in Metaflow)."""
        from flowc.authoring.parameters import Parameter

        found = {}
        for klass in reversed(self.flow_class.__mro__):
            for attribute, value in vars(klass).items():
                if isinstance(value, Parameter):
                    found[value.name] = attribute
        return {spec.name: found.get(spec.name, spec.name) for spec in self.ir.parameters}


def module_name(flow: str) -> str:
    return f"_flowc_flow_{flow}"


def find_flow_file(directory: Path, flow: str) -> Path:
    """The ``.py`` file in an unpacked code package that defines ``class <flow>``."""
    pattern = re.compile(rf"^class\s+{re.escape(flow)}\b", re.MULTILINE)
    candidates = sorted(directory.glob("*.py")) + sorted(
        path for path in directory.rglob("*.py") if path.parent != directory
    )
    for path in candidates:
        try:
            if pattern.search(path.read_text(encoding="utf-8", errors="replace")):
                return path
        except OSError:
            continue
    raise BadInput(f"the code package in {directory} has no file defining class {flow}")


def load_flow(path: str | os.PathLike[str], flow: str, ir: FlowIR | None = None) -> LoadedFlow:
    """The IR and class of flow ``flow`` in ``path``.

    Raises:
        BadInput: the file is missing, does not compile to a flow, or has no class ``flow``.
        Exception: whatever the module raises while being imported (user code).
    """
    path = os.path.abspath(os.fspath(path))
    if not os.path.isfile(path):
        raise BadInput(f"flow file {path} does not exist")
    if ir is None:
        from flowc.frontend import build_ir

        try:
            ir = build_ir(path)
        except Exception as exc:  # CompileError and friends: the message says what is wrong
            raise BadInput(f"{path}: {exc}") from None
    if ir.name != flow:
        raise BadInput(f"{path} defines flow {ir.name!r}, not {flow!r}")
    return LoadedFlow(ir, _import_class(path, flow), path)


def _import_class(path: str, flow: str) -> type:
    name = module_name(flow)
    module: Any = sys.modules.get(name)
    if module is None or getattr(module, "__file__", None) != path:
        folder = os.path.dirname(path)
        if folder not in sys.path:
            sys.path.insert(0, folder)  # sibling modules import as they do under `python flow.py`
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise BadInput(f"cannot import {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(name, None)
            raise
    flow_class = getattr(module, flow, None)
    if not isinstance(flow_class, type):
        raise BadInput(f"{path} has no class {flow}")
    return flow_class
