"""Reads a flow file's AST into plain facts: the flow class, its steps, parameters and decorators.

Nothing here imports the user's module or judges the flow: the checks do that on these facts.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

from flowc.frontend.body import BodyFacts, scan_body

__all__ = ["DecoratorCall", "FlowSource", "ParameterSource", "StepSource", "read_flow_source"]

PARAMETER_CLASSES = ("Parameter", "IncludeFile")


@dataclass
class DecoratorCall:
    """A decorator as written: ``@name`` or ``@name(key=value, ...)``."""

    name: str
    node: ast.expr
    keywords: dict[str, ast.expr]
    positional: list[ast.expr]
    line: int


@dataclass
class StepSource:
    """A method of the flow class (a step when decorated with ``@step``)."""

    name: str
    node: ast.FunctionDef
    line: int
    is_step: bool
    arg_names: list[str]
    decorators: list[DecoratorCall]
    docstring: str | None
    body: BodyFacts
    has_varargs: bool = False


@dataclass
class ParameterSource:
    """``attr = Parameter("name", ...)`` / ``IncludeFile(...)`` at class level."""

    attribute: str
    call: ast.Call
    line: int
    is_file: bool


@dataclass
class FlowSource:
    """Everything the AST says about the flow class."""

    file: str  # basename, as diagnostics and the IR show it
    path: Path
    class_name: str
    class_node: ast.ClassDef
    line: int
    docstring: str | None
    methods: list[StepSource] = field(default_factory=list)
    parameters: list[ParameterSource] = field(default_factory=list)
    class_attributes: dict[str, int] = field(default_factory=dict)
    flow_decorators: list[DecoratorCall] = field(default_factory=list)

    @property
    def steps(self) -> list[StepSource]:
        return [m for m in self.methods if m.is_step]

    def step(self, name: str) -> StepSource | None:
        for method in self.methods:
            if method.is_step and method.name == name:
                return method
        return None


def dotted_tail(node: ast.expr) -> str | None:
    """``flowc.step`` -> ``step``; ``step`` -> ``step``; anything else -> None."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _decorator_call(node: ast.expr) -> DecoratorCall | None:
    if isinstance(node, ast.Call):
        name = dotted_tail(node.func)
        if name is None:
            return None
        keywords = {k.arg: k.value for k in node.keywords if k.arg is not None}
        return DecoratorCall(name, node, keywords, list(node.args), node.lineno)
    name = dotted_tail(node)
    if name is None:
        return None
    return DecoratorCall(name, node, {}, [], node.lineno)


def _method(node: ast.FunctionDef) -> StepSource:
    decorators = [d for d in (_decorator_call(n) for n in node.decorator_list) if d is not None]
    is_step = any(d.name == "step" and not d.keywords and not d.positional for d in decorators)
    return StepSource(
        name=node.name,
        node=node,
        line=node.lineno,
        is_step=is_step,
        arg_names=[a.arg for a in node.args.posonlyargs + node.args.args],
        decorators=[d for d in decorators if d.name != "step"],
        docstring=ast.get_docstring(node),
        body=scan_body(node) if is_step else BodyFacts(),
        has_varargs=bool(
            node.args.vararg or node.args.kwarg or node.args.kwonlyargs or node.args.defaults
        ),
    )


def _is_flowspec_class(node: ast.ClassDef, known_flows: set[str]) -> bool:
    for base in node.bases:
        name = dotted_tail(base)
        if name == "FlowSpec" or name in known_flows:
            return True
    return False


def _main_instantiations(module: ast.Module) -> set[str]:
    """Class names called under ``if __name__ == "__main__":`` (how a file names its flow)."""
    names: set[str] = set()
    for node in module.body:
        if isinstance(node, ast.If) and "__main__" in ast.unparse(node.test):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name):
                    names.add(inner.func.id)
    return names


def find_flow_classes(module: ast.Module) -> list[ast.ClassDef]:
    """FlowSpec subclasses defined at module level, in source order."""
    found: list[ast.ClassDef] = []
    known: set[str] = set()
    for node in module.body:
        if isinstance(node, ast.ClassDef) and _is_flowspec_class(node, known):
            found.append(node)
            known.add(node.name)
    return found


def pick_flow_class(module: ast.Module) -> tuple[ast.ClassDef | None, list[ast.ClassDef]]:
    """The flow class of the file and the candidates (for a diagnostic when it is ambiguous)."""
    candidates = find_flow_classes(module)
    if len(candidates) <= 1:
        return (candidates[0] if candidates else None), candidates
    started = _main_instantiations(module)
    chosen = [c for c in candidates if c.name in started]
    if len(chosen) == 1:
        return chosen[0], candidates
    # A base flow and one subclass of it: the subclass is the flow.
    subclassed = {dotted_tail(b) for c in candidates for b in c.bases}
    leaves = [c for c in candidates if c.name not in subclassed]
    if len(leaves) == 1:
        return leaves[0], candidates
    return None, candidates


def _parameter_call(value: ast.expr) -> tuple[ast.Call, bool] | None:
    if isinstance(value, ast.Call) and dotted_tail(value.func) in PARAMETER_CLASSES:
        return value, dotted_tail(value.func) == "IncludeFile"
    return None


def read_flow_source(path: Path, class_node: ast.ClassDef) -> FlowSource:
    """Collects the facts of ``class_node`` (steps, plain methods, parameters, class attributes)."""
    flow = FlowSource(
        file=path.name,
        path=path,
        class_name=class_node.name,
        class_node=class_node,
        line=class_node.lineno,
        docstring=ast.get_docstring(class_node),
        flow_decorators=[
            d for d in (_decorator_call(n) for n in class_node.decorator_list) if d is not None
        ],
    )
    for node in class_node.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            flow.methods.append(_method(node))  # type: ignore[arg-type]
            continue
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        for target in targets:
            if not isinstance(target, ast.Name):
                continue
            parameter = _parameter_call(value) if value is not None else None
            if parameter is not None:
                flow.parameters.append(
                    ParameterSource(target.id, parameter[0], node.lineno, parameter[1])
                )
            else:
                flow.class_attributes.setdefault(target.id, node.lineno)
    return flow
