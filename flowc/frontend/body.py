"""What a step body does with ``self``: the artifacts it assigns and reads, and its ``self.next`` calls.

Read from the AST only (no step body runs). Names that are not artifacts (``self.next``,
``self.input``, the flow's own methods, ...) are left out by the caller, which knows the class.

Reads are sorted by how sure the front end can be that they need a value from an earlier step:

- a read before the body's own assignment needs an inherited value (``inherited_reads``);
- a read inside a nested function or lambda runs when (and if) that is called, maybe after the
  body assigned the name: it is uncertain (``deferred_reads``), and so is the whole step when it
  assigns attributes whose names are computed (``setattr(self, name, ...)``, ``self.__dict__``);
- a read the body guards is optional by design: ``hasattr(self, "x")``, ``getattr(self, "x",
  default)``, or a read inside ``try:`` whose handlers catch ``AttributeError``.

A call of one of the flow's helper methods (``self.load()``) assigns what that helper assigns.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["NON_ARTIFACT_NAMES", "BodyFacts", "HelperFacts", "helper_facts", "scan_body"]

#: ``self`` attributes that are FlowSpec API, never artifacts.
NON_ARTIFACT_NAMES = frozenset(
    {"next", "input", "index", "foreach_stack", "merge_artifacts", "name"}
    # Metaflow's private members that flows read (flowc.authoring.flowspec offers them).
    | {"_graph", "_current_step", "_foreach_stack"}
)
#: Exception names whose handler turns a missing attribute into a handled case.
_CATCHES_ATTRIBUTE_ERROR = frozenset({"AttributeError", "Exception", "BaseException"})


@dataclass
class BodyFacts:
    """What one step body does with ``self`` (lines are the first occurrence)."""

    assigns: dict[str, int] = field(default_factory=dict)
    reads: dict[str, int] = field(default_factory=dict)
    # reads that happen before the body itself assigned the name: they need an inherited value
    inherited_reads: dict[str, int] = field(default_factory=dict)
    # reads inside nested functions / lambdas of names the body never assigns: uncertain
    deferred_reads: dict[str, int] = field(default_factory=dict)
    # names the body only reads behind a guard (hasattr, getattr with a default, try/except)
    guarded: set[str] = field(default_factory=set)
    # names the body assigns only inside a `try:` that handles AttributeError (a read-only
    # parameter the step expects to refuse the assignment, as Metaflow's test suite does)
    guarded_assigns: set[str] = field(default_factory=set)
    # artifact -> the helper method whose call assigns it
    assigned_via: dict[str, str] = field(default_factory=dict)
    # self.<name>(...) calls: method name -> first line
    method_calls: dict[str, int] = field(default_factory=dict)
    # assigns attributes whose names are computed: any artifact may be assigned
    dynamic_assigns: bool = False
    next_calls: list[ast.Call] = field(default_factory=list)
    merge_calls: list[ast.Call] = field(default_factory=list)
    uses_inputs_name: bool = False  # the body reads a name `inputs` (a join, even if the argument is missing)


@dataclass(frozen=True)
class HelperFacts:
    """What calling a helper method assigns (including the helpers it calls)."""

    assigns: frozenset[str] = frozenset()
    dynamic_assigns: bool = False


def _is_self(node: ast.AST, self_name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == self_name


def _string(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _catches_attribute_error(handler: ast.ExceptHandler) -> bool:
    kind = handler.type
    if kind is None:
        return True
    names = kind.elts if isinstance(kind, ast.Tuple) else [kind]
    return any(
        (isinstance(n, ast.Name) and n.id in _CATCHES_ATTRIBUTE_ERROR)
        or (isinstance(n, ast.Attribute) and n.attr in _CATCHES_ATTRIBUTE_ERROR)
        for n in names
    )


class _BodyScanner(ast.NodeVisitor):
    """Visits statements in execution order (an assignment's value before its targets)."""

    def __init__(self, self_name: str, helpers: Mapping[str, HelperFacts]) -> None:
        self.self_name = self_name
        self.helpers = helpers
        self.facts = BodyFacts()
        self._nested = 0  # inside a nested function or lambda
        self._guarded = 0  # inside a try body that handles AttributeError
        self._guarded_writes: set[str] = set()
        self._plain_writes: set[str] = set()
        self._deferred: dict[str, int] = {}

    # ---- recording -----------------------------------------------------------------------
    def _read(self, name: str, line: int) -> None:
        self.facts.reads.setdefault(name, line)
        if self._guarded:
            self.facts.guarded.add(name)
        elif self._nested:
            self._deferred.setdefault(name, line)
        elif name not in self.facts.assigns:
            self.facts.inherited_reads.setdefault(name, line)

    def _write(self, name: str, line: int) -> None:
        self.facts.assigns.setdefault(name, line)
        (self._guarded_writes if self._guarded else self._plain_writes).add(name)

    def finish(self) -> BodyFacts:
        facts = self.facts
        facts.guarded_assigns = self._guarded_writes - self._plain_writes
        for name in facts.guarded:
            facts.inherited_reads.pop(name, None)
        facts.deferred_reads = {
            n: line for n, line in self._deferred.items()
            if n not in facts.assigns and n not in facts.inherited_reads and n not in facts.guarded
        }
        return facts

    # ---- scopes --------------------------------------------------------------------------
    def _nested_scope(self, node: ast.AST) -> None:
        self._nested += 1
        try:
            self.generic_visit(node)
        finally:
            self._nested -= 1

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._nested_scope(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._nested_scope(node)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._nested_scope(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._nested_scope(node)

    def visit_Try(self, node: ast.Try) -> None:
        guards = any(_catches_attribute_error(h) for h in node.handlers)
        self._guarded += guards
        try:
            for statement in node.body:
                self.visit(statement)
        finally:
            self._guarded -= guards
        for part in (*node.handlers, *node.orelse, *node.finalbody):
            self.visit(part)

    visit_TryStar = visit_Try

    # ---- statements ----------------------------------------------------------------------
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
            if node.attr == "__dict__":
                self.facts.dynamic_assigns = True
            elif node.attr.startswith("__") and node.attr.endswith("__"):
                pass  # self.__class__, self.__module__: Python's own attributes, never artifacts
            elif isinstance(node.ctx, ast.Store):
                self._write(node.attr, node.lineno)
            elif isinstance(node.ctx, ast.Load):
                self._read(node.attr, node.lineno)
            return
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id == "inputs" and isinstance(node.ctx, ast.Load):
            self.facts.uses_inputs_name = True

    # ---- calls ---------------------------------------------------------------------------
    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute) and _is_self(func.value, self.self_name):
            if func.attr == "next":
                # The arguments name steps, not artifacts.
                self.facts.next_calls.append(node)
                return
            if func.attr == "merge_artifacts":
                self.facts.merge_calls.append(node)
            self.generic_visit(node)
            self._called(func.attr, node.lineno)
            return
        if isinstance(func, ast.Name) and self._builtin_on_self(func.id, node):
            return
        self.generic_visit(node)

    def _called(self, method: str, line: int) -> None:
        """``self.method(...)``: the helper's assignments happen here (after its arguments)."""
        self.facts.method_calls.setdefault(method, line)
        helper = self.helpers.get(method)
        if helper is None:
            return
        for name in sorted(helper.assigns):
            if name not in self.facts.assigns:
                self.facts.assigned_via.setdefault(name, method)
            self._write(name, line)
        if helper.dynamic_assigns:
            self.facts.dynamic_assigns = True

    def _builtin_on_self(self, builtin: str, node: ast.Call) -> bool:
        """setattr / getattr / hasattr / vars on ``self``; True when the call is fully handled."""
        args = node.args
        on_self = bool(args) and _is_self(args[0], self.self_name)
        if builtin == "vars" and on_self:
            self.facts.dynamic_assigns = True
            return True
        if builtin not in ("setattr", "getattr", "hasattr") or not on_self or len(args) < 2:
            return False
        name = _string(args[1])
        for arg in (*args[2:], *(k.value for k in node.keywords)):
            self.visit(arg)
        if builtin == "setattr":
            if name is None:
                self.facts.dynamic_assigns = True
            else:
                self._write(name, node.lineno)
        elif name is None:
            pass  # getattr/hasattr of a computed name: nothing known
        elif builtin == "getattr" and len(args) == 2:
            self._read(name, node.lineno)
        else:
            # hasattr(self, "x") or getattr(self, "x", default): the step copes with no value.
            self.facts.guarded.add(name)
            self.facts.reads.setdefault(name, node.lineno)
        if name is None:
            self.visit(args[1])
        return True


def _self_name(func: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    positional = func.args.posonlyargs + func.args.args
    return positional[0].arg if positional else "self"


def scan_body(
    func: ast.FunctionDef | ast.AsyncFunctionDef, helpers: Mapping[str, HelperFacts] | None = None
) -> BodyFacts:
    """Artifacts assigned and read by a method body, and its ``self.next`` / ``merge_artifacts`` calls.

    Args:
        func: the method.
        helpers: what each helper method of the flow assigns when called (see :func:`helper_facts`).
    """
    scanner = _BodyScanner(_self_name(func), helpers or {})
    for statement in func.body:
        scanner.visit(statement)
    return scanner.finish()


def helper_facts(bodies: Mapping[str, BodyFacts]) -> dict[str, HelperFacts]:
    """What each helper assigns when called, following the helpers it calls in turn.

    Args:
        bodies: each helper method's own :class:`BodyFacts` (scanned without helpers).
    """
    assigned = {name: set(body.assigns) for name, body in bodies.items()}
    dynamic = {name: body.dynamic_assigns for name, body in bodies.items()}
    changed = True
    while changed:  # a fixed point: helpers are few and call chains short
        changed = False
        for name, body in bodies.items():
            for callee in body.method_calls:
                if callee == name or callee not in bodies:
                    continue
                before = (len(assigned[name]), dynamic[name])
                assigned[name] |= assigned[callee]
                dynamic[name] = dynamic[name] or dynamic[callee]
                changed = changed or before != (len(assigned[name]), dynamic[name])
    return {name: HelperFacts(frozenset(assigned[name]), dynamic[name]) for name in bodies}
