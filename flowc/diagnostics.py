"""Diagnostics: what a check or a target's refusal reports, formatted as ``file:line: step 'x': ...``.

Neither front end nor back end: the front end's checks and every target's refusals report through
these types. There is one way to refuse: :func:`refuse` (code, message, hint, where); a target's
refusal of a step goes through :func:`refuse_step`, which places it at the step's own file and line
(an inherited step is written in another file than the flow class), and the front end's checks
through ``Analysis.refuse`` (:mod:`flowc.frontend.analysis`), which does the same from the source.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flowc.ir import FlowIR, Step

__all__ = ["CompileError", "Diagnostic", "format_diagnostics", "refuse", "refuse_step"]


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


def refuse(
    code: str,
    message: str,
    *,
    file: str,
    line: int | None = None,
    step: str | None = None,
    hint: str | None = None,
    severity: str = "error",
) -> Diagnostic:
    """The one way a check or a target refuses (or, with ``severity="warning"``, warns).

    Args:
        code: a stable code (``<target>-<what>``, or a construct's ``unsupported-<construct>``).
        message: what cannot be done and why, one line.
        file: the file the problem is written in (an inherited step's own module).
        line: where in ``file``.
        step: the step concerned, if any.
        hint: what the user can do instead.
        severity: ``"error"`` stops the compile; ``"warning"`` is reported only.
    """
    return Diagnostic(code, message, file, line=line, step=step, hint=hint, severity=severity)


def refuse_step(
    ir: FlowIR,
    step: Step | None,
    code: str,
    message: str,
    hint: str | None = None,
    *,
    line: int | None = None,
) -> Diagnostic:
    """The one way a target refuses what a flow asks: at ``step``'s own file and line.

    Args:
        ir: the flow.
        step: the step concerned (None: the flow itself, placed at ``line`` of the flow's file).
        code: a stable code (``<target>-<what>``, or a construct's ``unsupported-<construct>``).
        message: what cannot be done and why, one line.
        hint: what the user can do instead.
        line: a more precise line than the step's ``def`` (a decorator, a parameter).
    """
    where = step.location if step is not None else None
    return refuse(
        code,
        message,
        file=where.file if where is not None else ir.source_file,
        line=line if line is not None else (where.line if where is not None else None),
        step=step.name if step is not None else None,
        hint=hint,
    )
