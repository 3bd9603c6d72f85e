"""The front end's name for :mod:`flowc.diagnostics` (diagnostics belong to neither end)."""

from flowc.diagnostics import CompileError, Diagnostic, format_diagnostics

__all__ = ["CompileError", "Diagnostic", "format_diagnostics"]
