"""Loading a flow for one task: its IR and its class.

From a code package the IR is the one the package holds (:data:`flowc.package.IR_NAME`), which is
the IR the flow's documents were compiled from: the front end does not run again, and a package
whose IR is not the one the task's command names (``--ir``) is refused. From a flow file
(``--source``) the IR is built from the source (never by running it), with the ``--with``
decorators of the task's environment.

The flow module is imported by path under a private module name (``_flowc_flow_<Flow>``), so its
``if __name__ == "__main__":`` block does not run. The name depends only on the flow's name, so
objects of classes defined in the flow file pickle and unpickle alike in every task.
"""

from __future__ import annotations

import importlib.util
import json
import os
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
    "package_ir",
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
    """The flow file of an unpacked code package: the one its manifest names (``flowc.package``;
    every package has one)."""
    from flowc.package import MANIFEST_NAME

    try:
        named = json.loads((directory / MANIFEST_NAME).read_text(encoding="utf-8")).get("flow_file")
    except (OSError, ValueError, AttributeError):
        named = None
    if not named or not (directory / named).is_file():
        raise BadInput(f"the code package in {directory} names no flow file for {flow} in {MANIFEST_NAME}")
    return directory / named


def load_flow(
    path: str | os.PathLike[str], flow: str, ir: FlowIR | None = None, ir_digest: str | None = None
) -> LoadedFlow:
    """The IR and class of flow ``flow`` in ``path``.

    Args:
        ir_digest: the digest of the IR the task's document was compiled from (``--ir``); the
            flow file's IR must have it.

    Raises:
        BadInput: the file is missing, does not compile to a flow, has no class ``flow``, or its
            IR is not the one ``ir_digest`` names.
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
    ir = _with_decorators(ir)
    if ir_digest is not None and ir.digest != ir_digest:
        raise BadInput(_other_ir(f"flow file {path}", ir.digest, ir_digest))
    return LoadedFlow(ir, _import_class(path, flow), path)


def _other_ir(what: str, found: str, expected: str) -> str:
    return (
        f"{what} has IR {found[:12]}, but this task's document was compiled from IR {expected[:12]} "
        "(the flow changed since): compile or deploy the flow again"
    )


def _with_decorators(ir: FlowIR) -> FlowIR:
    """``ir`` with the ``--with`` decorators the run or deployment gave every task (applying them
    again to an IR that has them changes nothing)."""
    from flowc.frontend.decospecs import DecospecError, apply_decospecs, specs_from_environment

    try:
        specs = specs_from_environment(os.environ)
        return apply_decospecs(ir, specs) if specs else ir
    except DecospecError as exc:
        raise BadInput(str(exc)) from None


def load_package_flow(directory: Path, flow: str, ir_digest: str | None = None) -> LoadedFlow:
    """The flow of an unpacked code package, with the IR the package holds.

    Args:
        ir_digest: the digest of the IR the task's document was compiled from (``--ir``).

    Raises:
        BadInput: the package has no IR, its IR is not the one ``ir_digest`` names (a package
            built from another version of the flow), or it is not flow ``flow``'s.
    """
    path = find_flow_file(directory, flow)
    ir = package_ir(directory, ir_digest)
    if ir.name != flow:
        raise BadInput(f"the code package holds flow {ir.name!r}, not {flow!r}")
    return LoadedFlow(ir, _import_class(str(path), flow), str(path))


def package_ir(directory: Path, ir_digest: str | None = None) -> FlowIR:
    """The IR an unpacked code package holds (:data:`flowc.package.IR_NAME`); with ``ir_digest``,
    refused (:class:`BadInput`) unless it is that IR."""
    from flowc.ir import IRError
    from flowc.ir import ir_digest as digest_of_text
    from flowc.package import IR_NAME

    try:
        text = (directory / IR_NAME).read_bytes()
    except OSError:
        raise BadInput(
            f"the code package in {directory} has no {IR_NAME} (built by an older flowc): "
            "deploy the flow again"
        ) from None
    found = digest_of_text(text)
    if ir_digest is not None and found != ir_digest:
        raise BadInput(_other_ir("the code package", found, ir_digest))
    try:
        return FlowIR.from_json(text.decode("utf-8"))
    except (IRError, UnicodeDecodeError) as exc:
        raise BadInput(f"the code package's {IR_NAME} cannot be read: {exc}") from None


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
