"""Values of decorator and Parameter arguments: from the AST when literal, else from the imported module.

The module is imported at most once per analysis and only when some argument is not a literal; its
``if __name__ == "__main__":`` block does not run and no step body is called. Values become
JSON-compatible and frozen (lists -> tuples) so that the IR round-trips through JSON.
"""

from __future__ import annotations

import ast
import contextlib
import contextvars
import importlib.util
import math
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["NOT_LITERAL", "ModuleLoader", "freeze", "literal", "module_imports_refused"]


class _NotLiteral:
    def __repr__(self) -> str:
        return "NOT_LITERAL"


#: Returned by :func:`literal` when the expression needs the module to be evaluated.
NOT_LITERAL: Any = _NotLiteral()

# The flow files being imported right now: a module that runs its flow at import time (no
# `if __name__ == "__main__":` guard) would otherwise re-enter the front end without end.
_IMPORTING: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar(
    "flowc_frontend_importing", default=frozenset()
)


# Set by a caller that must not run the flow's code (``flowc ui`` drawing a graph in its server
# process): the import is refused, and the list records which files would have been imported.
_REFUSED: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "flowc_frontend_imports_refused", default=None
)


@contextlib.contextmanager
def module_imports_refused() -> Iterator[list[str]]:
    """Within the block, the front end never imports a flow's module: an argument that is not a
    literal becomes an error instead. Yields the list of files it refused to import (empty when
    the flow's IR needed none), so the caller can build the IR elsewhere when it is not."""
    refused: list[str] = []
    token = _REFUSED.set(refused)
    try:
        yield refused
    finally:
        _REFUSED.reset(token)


def literal(node: ast.expr) -> Any:
    """``ast.literal_eval`` of ``node``, or :data:`NOT_LITERAL`."""
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return NOT_LITERAL


def freeze(value: Any) -> Any:
    """Lists, tuples and sets become tuples (sets sorted), recursively; dicts keep sorted keys."""
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    if isinstance(value, set | frozenset):
        return tuple(sorted(freeze(v) for v in value))
    if isinstance(value, dict):
        return {str(k): freeze(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    return value


def is_json_compatible(value: Any) -> bool:
    """Whether ``value`` survives a JSON round trip unchanged (NaN and infinities do not)."""
    if isinstance(value, float):
        return math.isfinite(value)
    if value is None or isinstance(value, str | int | bool):
        return True
    if isinstance(value, list | tuple):
        return all(is_json_compatible(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and is_json_compatible(v) for k, v in value.items())
    return False


class ModuleLoader:
    """Imports the flow's module on first use (once), under a private module name."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._module: Any = None
        self._error: str | None = None

    @property
    def error(self) -> str | None:
        """Why the import failed, if it did."""
        return self._error

    def module(self) -> Any:
        """The imported module, or None (see :attr:`error`)."""
        if self._module is None and self._error is None:
            self._module = self._import()
        return self._module

    def _import(self) -> Any:
        refused = _REFUSED.get()
        if refused is not None:
            refused.append(str(self.path))
            self._error = f"importing {self.path.name} is not allowed here"
            return None
        key = str(self.path.resolve())
        importing = _IMPORTING.get()
        if key in importing:
            self._error = f"{self.path.name} runs its flow while being imported (guard it with " \
                "`if __name__ == '__main__':`)"
            return None
        token = _IMPORTING.set(importing | {key})
        try:
            return self._exec()
        finally:
            _IMPORTING.reset(token)

    def _exec(self) -> Any:
        name = f"_flowc_frontend_{uuid.uuid4().hex}"
        spec = importlib.util.spec_from_file_location(name, self.path)
        if spec is None or spec.loader is None:
            self._error = f"cannot import {self.path.name}"
            return None
        module = importlib.util.module_from_spec(spec)
        directory = str(self.path.parent.resolve())
        added = directory not in sys.path
        if added:
            sys.path.insert(0, directory)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException as exc:
            self._error = f"importing {self.path.name} failed: {type(exc).__name__}: {exc}"
            return None
        finally:
            sys.modules.pop(name, None)
            if added:
                with contextlib.suppress(ValueError):
                    sys.path.remove(directory)
        return module

    def flow_class(self, class_name: str) -> Any:
        module = self.module()
        return getattr(module, class_name, None) if module is not None else None
