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

__all__ = [
    "LoadedFlow",
    "find_flow_file",
    "import_flow_module",
    "load_flow",
    "load_package_flow",
    "module_name",
]


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

    def configs(self) -> dict[str, Any]:
        """``{attribute: value}`` of the flow's ``Config`` attributes, as steps read them: artifacts
        of the run, stored by the start task like the constants."""
        import json

        from flowc.authoring.configs import config_value

        return {c.attribute: config_value(json.loads(c.value), c.plain) for c in self.ir.configs}

    def constants(self) -> dict[str, Any]:
        """The flow's class-level constants, which Metaflow persists as artifacts of the run
        (:func:`flowc.authoring.flowspec.is_constant` says which names are)."""
        from flowc.authoring.flowspec import is_constant

        cls = self.flow_class
        return {name: getattr(cls, name) for name in dir(cls) if is_constant(cls, name)}


def module_name(flow: str) -> str:
    return f"_flowc_flow_{flow}"


def find_flow_file(directory: Path, flow: str) -> Path:
    """The flow file of an unpacked code package: the one its manifest names (``flowc.package``),
    else the ``.py`` file that defines ``class <flow>``."""
    manifest = directory / "FLOWC_PACKAGE.json"
    if manifest.is_file():
        import json

        try:
            named = json.loads(manifest.read_text(encoding="utf-8")).get("flow_file")
        except (OSError, ValueError, AttributeError):
            named = None
        if named and (directory / named).is_file():
            return directory / named
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
    return LoadedFlow(_with_decorators(ir), _import_class(path, flow), path)


def _with_decorators(ir: FlowIR) -> FlowIR:
    """``ir`` with the ``--with`` decorators the run or deployment gave every task (applying them
    again to an IR that has them changes nothing)."""
    from flowc.frontend.decospecs import DecospecError, apply_decospecs, specs_from_environment

    try:
        specs = specs_from_environment(os.environ)
        return apply_decospecs(ir, specs) if specs else ir
    except DecospecError as exc:
        raise BadInput(str(exc)) from None


def load_package_flow(directory: Path, flow: str) -> LoadedFlow:
    """The flow of an unpacked code package, its IR cached beside it.

    A package never changes (its folder is named by its hash), so the IR built by the first task
    on a machine serves every later one and they skip the front end (about a third of a task's
    start-up). The cache file is written atomically; a stale or unreadable one is rebuilt.
    """
    from flowc import __version__
    from flowc.ir import SCHEMA_VERSION, IRError

    path = find_flow_file(directory, flow)
    cache = directory / f".flowc-ir-{flow}-{__version__}-{SCHEMA_VERSION}{_configs_key()}.json"
    ir = None
    try:
        ir = FlowIR.from_json(cache.read_text(encoding="utf-8"))
    except (OSError, IRError, ValueError, TypeError, KeyError):
        ir = None
    if ir is None:
        from flowc.frontend import build_ir

        try:
            ir = build_ir(path)
        except Exception as exc:  # CompileError and friends: the message says what is wrong
            raise BadInput(f"{path}: {exc}") from None
        # The flow's own IR: `--with` decorators come from each task's environment, not the cache.
        temp = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
        try:
            temp.write_text(ir.to_json(), encoding="utf-8")
            os.replace(temp, cache)
        except OSError:  # a read-only cache is fine: the next task builds the IR again
            temp.unlink(missing_ok=True)
    return load_flow(path, flow, ir=ir)


def _configs_key() -> str:
    """Part of the package IR cache's name: the config values the deployment gave its tasks
    (two deployments of one package with different configs build different IRs)."""
    from flowc.frontend.configs import FIXED_ENV

    text = os.environ.get(FIXED_ENV)
    if not text:
        return ""
    import hashlib

    return "-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def import_flow_module(path: str | os.PathLike[str], flow: str) -> Any:
    """The flow file's module, imported under :func:`module_name` (once per process): what
    unpickling an object of a class defined in the flow file needs (the client calls it)."""
    path = os.path.abspath(os.fspath(path))
    if not os.path.isfile(path):
        raise BadInput(f"flow file {path} does not exist")
    return _import_module(path, flow)


def _import_class(path: str, flow: str) -> type:
    module = _import_module(path, flow)
    flow_class = getattr(module, flow, None)
    if not isinstance(flow_class, type):
        raise BadInput(f"{path} has no class {flow}")
    return flow_class


def _import_module(path: str, flow: str) -> Any:
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
    return module
