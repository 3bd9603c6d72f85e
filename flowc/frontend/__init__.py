"""The front end: reads a flow file (AST; no step body runs) and builds the :class:`~flowc.ir.FlowIR`.

``analyse(path)`` returns the IR (or None) and every diagnostic; ``build_ir(path)`` returns the IR or
raises :class:`~flowc.diagnostics.CompileError` carrying all errors (with ``strict``,
warnings too). The module is imported only when a decorator or Parameter argument is not a literal.
"""

from __future__ import annotations

import ast
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flowc.diagnostics import CompileError, Diagnostic, refuse
from flowc.frontend.configs import ConfigInputs
from flowc.frontend.hierarchy import ModuleIndex
from flowc.ir import FlowIR

__all__ = ["CompileError", "Diagnostic", "analyse", "build_ir"]


def _parse(path: Path) -> tuple[ast.Module | None, list[Diagnostic]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return None, [refuse("unreadable-file", f"cannot read the flow file: {exc.strerror or exc}",
                             file=path.name)]
    except UnicodeDecodeError as exc:
        return None, [refuse("unreadable-file", f"the flow file is not UTF-8: {exc.reason}", file=path.name)]
    try:
        return ast.parse(text, filename=path.name), []
    except SyntaxError as exc:
        return None, [
            refuse("syntax-error", f"syntax error: {exc.msg}", file=path.name, line=exc.lineno,
                   hint="fix the Python syntax first")
        ]


@contextmanager
def _gc_paused() -> Iterator[None]:
    # Parsing allocates a burst of acyclic AST objects that the cyclic collector would rescan many
    # times over; pausing it halves the front end's time on big flows. Restored on the way out.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def analyse(path: str | Path, configs: ConfigInputs | None = None) -> tuple[FlowIR | None, list[Diagnostic]]:
    """Checks the flow in ``path`` and builds its IR.

    Args:
        path: the flow file.
        configs: values of the flow's ``Config`` attributes given on the command line (the
            environment completes them: flowc/frontend/configs.py).

    Returns:
        The IR (None when some diagnostic is an error) and every diagnostic found, errors and
        warnings, in file order.
    """
    with _gc_paused():
        return _analyse(Path(path), configs)


def _analyse(path: Path, configs: ConfigInputs | None) -> tuple[FlowIR | None, list[Diagnostic]]:
    from flowc.frontend.analysis import analyse_source
    from flowc.frontend.builder import build_flow_ir
    from flowc.frontend.checks import run_checks, select_flow_class
    from flowc.frontend.source import read_flow_source
    from flowc.frontend.values import ModuleLoader

    module, diagnostics = _parse(path)
    if module is None:
        return None, diagnostics
    index = ModuleIndex(path, module)
    class_node, diagnostics = select_flow_class(index)
    if class_node is None:
        return None, _unreadable_modules(index) + diagnostics
    flow = read_flow_source(index, class_node)
    analysis = analyse_source(flow, ModuleLoader(path), configs)
    diagnostics = _unreadable_modules(index) + run_checks(analysis)
    if any(d.severity == "error" for d in diagnostics):
        return None, diagnostics
    return build_flow_ir(analysis), diagnostics


def _unreadable_modules(index: ModuleIndex) -> list[Diagnostic]:
    """A local module a base class comes from that does not parse: its classes are unknown."""
    return [
        refuse("syntax-error" if line else "unreadable-file", message, file=file, line=line,
               hint="the flow's base classes are read from this module; fix it first")
        for file, line, message in index.unreadable
    ]


def build_ir(path: str | Path, strict: bool = False, configs: ConfigInputs | None = None) -> FlowIR:
    """The IR of the flow in ``path``.

    Args:
        path: the flow file.
        strict: treat warnings as errors.
        configs: as for :func:`analyse`.

    Raises:
        CompileError: with every error (and, when ``strict``, every warning) found.
    """
    ir, diagnostics = analyse(path, configs)
    fatal = [d for d in diagnostics if strict or d.severity == "error"]
    if fatal or ir is None:
        raise CompileError(fatal or diagnostics)
    return ir
