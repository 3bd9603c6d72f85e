"""What a step body does with ``self``: the artifacts it assigns and reads, and its ``self.next`` calls.

Read from the AST only (no step body runs). Names that are not artifacts (``self.next``,
``self.input``, the flow's own methods, ...) are left out by the caller, which knows the class.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

__all__ = ["NON_ARTIFACT_NAMES", "BodyFacts", "scan_body"]

#: ``self`` attributes that are FlowSpec API, never artifacts.
NON_ARTIFACT_NAMES = frozenset(
    {"next", "input", "index", "foreach_stack", "merge_artifacts", "name"}
)


@dataclass
class BodyFacts:
    """What one step body does with ``self`` (lines are the first occurrence)."""

    assigns: dict[str, int] = field(default_factory=dict)
    reads: dict[str, int] = field(default_factory=dict)
    # reads that happen before the body itself assigned the name: they need an inherited value
    inherited_reads: dict[str, int] = field(default_factory=dict)
    next_calls: list[ast.Call] = field(default_factory=list)
    merge_calls: list[ast.Call] = field(default_factory=list)
    uses_inputs_name: bool = False  # the body reads a name `inputs` (a join, even if the argument is missing)


def _is_self(node: ast.AST, self_name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == self_name


class _BodyScanner(ast.NodeVisitor):
    """Visits statements in execution order (an assignment's value before its targets)."""

    def __init__(self, self_name: str) -> None:
        self.self_name = self_name
        self.facts = BodyFacts()

    # ---- recording -----------------------------------------------------------------------
    def _read(self, name: str, line: int) -> None:
        self.facts.reads.setdefault(name, line)
        if name not in self.facts.assigns:
            self.facts.inherited_reads.setdefault(name, line)

    def _write(self, name: str, line: int) -> None:
        self.facts.assigns.setdefault(name, line)

    # ---- visitors ------------------------------------------------------------------------
    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        for target in node.targets:
            self.visit(target)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
        self.visit(node.target)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.visit(node.value)
        target = node.target
        if isinstance(target, ast.Attribute) and _is_self(target.value, self.self_name):
            self._read(target.attr, target.lineno)
            self._write(target.attr, target.lineno)
        else:
            self.visit(target)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if _is_self(node.value, self.self_name):
            if isinstance(node.ctx, ast.Store):
                self._write(node.attr, node.lineno)
            elif isinstance(node.ctx, ast.Load):
                self._read(node.attr, node.lineno)
            return
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id == "inputs" and isinstance(node.ctx, ast.Load):
            self.facts.uses_inputs_name = True

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute) and _is_self(func.value, self.self_name):
            if func.attr == "next":
                # The arguments name steps, not artifacts.
                self.facts.next_calls.append(node)
                return
            if func.attr == "merge_artifacts":
                self.facts.merge_calls.append(node)
        if (
            isinstance(func, ast.Name)
            and func.id == "setattr"
            and len(node.args) >= 2
            and _is_self(node.args[0], self.self_name)
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            for arg in node.args[2:]:
                self.visit(arg)
            self._write(node.args[1].value, node.lineno)
            return
        self.generic_visit(node)


def scan_body(func: ast.FunctionDef) -> BodyFacts:
    """Artifacts assigned and read by a step body, and its ``self.next`` / ``merge_artifacts`` calls."""
    self_name = func.args.args[0].arg if func.args.args else "self"
    scanner = _BodyScanner(self_name)
    for statement in func.body:
        scanner.visit(statement)
    return scanner.facts
