"""Diagnostics: what a check (or a back end's refusal) reports, formatted as ``file:line: step 'x': ...``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["CompileError", "Diagnostic", "format_diagnostics"]


@dataclass(frozen=True)
class Diagnostic:
    """One problem: a stable ``code``, where it is, the step it concerns, what is wrong and what to do."""

    code: str
    message: str
    file: str
    line: int | None = None
    step: str | None = None
    hint: str | None = None
    severity: str = "error"  # "error" or "warning"

    def format(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        who = f" step '{self.step}':" if self.step else ""
        level = "" if self.severity == "error" else f" {self.severity}:"
        hint = f" (hint: {self.hint})" if self.hint else ""
        return f"{where}:{level}{who} {self.message}{hint} [{self.code}]"

    def __str__(self) -> str:
        return self.format()


def format_diagnostics(diagnostics: Iterable[Diagnostic]) -> str:
    return "\n".join(d.format() for d in diagnostics)


class CompileError(Exception):
    """Raised with every diagnostic that stops a flow from being built or compiled."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics = tuple(diagnostics)
        super().__init__(format_diagnostics(self.diagnostics))
