"""Argo template tags the compiler writes, in one place.

Control data never travels as task arguments: a task's control record (written by the task runner to
``--control-file``) is its output parameter ``control``, and DAG fields read single fields of it
with expression tags (``{{=...}}``, https://argo-workflows.readthedocs.io/en/latest/variables/#expression).
Only ``jsonpath``, ``asInt``, ``toJson``, ``==``, ``&&``, ``||`` and ``? :`` are used, and every
reference to a task's outputs is guarded so that it is evaluated only when that task ran (Argo
3.7.11+ fails on references to outputs of skipped tasks).

Hyphenated names must be indexed (``tasks['my-step']``), never dotted: the expression language reads
``-`` as minus (same page).
"""

from __future__ import annotations

from collections.abc import Sequence

from flowc.control import Field

__all__ = [
    "CONTROL",
    "case_chosen",
    "control_of",
    "expression_tag",
    "field_of",
    "int_field_of",
    "quote",
    "status_succeeded",
]

#: Name of the output parameter carrying a task's control record.
CONTROL = "control"


def _escape(char: str) -> str:
    if char in "\\'":
        return "\\" + char
    code = ord(char)
    # Braces: a literal `{{` or `}}` would end or start a template tag early (Argo finds tags by
    # scanning for the next `}}`). Control characters: expr-lang rejects a raw line break inside a
    # string literal and normalises `\r\n`. Both are written as escapes expr-lang decodes
    # (https://expr-lang.org/docs/language-definition#strings).
    if char in "{}" or code < 0x20 or code == 0x7F or char in "\x85\u2028\u2029":
        return f"\\u{code:04x}"
    return char


def quote(text: str) -> str:
    """A single-quoted expression string literal that is safe inside a ``{{=...}}`` tag."""
    return "'" + "".join(_escape(char) for char in text) + "'"


def control_of(task: str) -> str:
    return f"tasks[{quote(task)}].outputs.parameters.{CONTROL}"


def field_of(task: str, field: Field) -> str:
    return f"jsonpath({control_of(task)}, {quote('$.' + field)})"


def int_field_of(task: str, field: Field) -> str:
    # asInt: jsonpath yields a float and Argo prints results with %v, so 1000000 would become 1e+06.
    return f"asInt({field_of(task, field)})"


def status_succeeded(task: str) -> str:
    return f"tasks[{quote(task)}].status == 'Succeeded'"


def case_chosen(task: str, keys: Sequence[str]) -> str:
    """True when the switch whose control ``task`` exports chose one of ``keys``."""
    checks = [f"{field_of(task, Field.SWITCH_CASE)} == {quote(key)}" for key in keys]
    return checks[0] if len(checks) == 1 else "(" + " || ".join(checks) + ")"


def expression_tag(expression: str) -> str:
    return "{{=" + expression + "}}"
