"""Reads a flow file's AST into plain facts: the flow class, its steps, parameters and decorators.

The flow class's members are those Python would give it: its own, then its bases' in method
resolution order (see :mod:`flowc.frontend.hierarchy`), each name taken from the first class that
defines it. Nothing here imports the user's module or judges the flow: the checks do that.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

from flowc.frontend.body import BodyFacts, helper_facts, scan_body
from flowc.frontend.hierarchy import ClassRef, ModuleIndex, flowc_aliases, is_flow, name_origins, opaque_bases

__all__ = [
    "DecoratorCall",
    "FlowSource",
    "ParameterSource",
    "StepSource",
    "find_flow_classes",
    "pick_flow_class",
    "read_flow_source",
]

PARAMETER_CLASSES = ("Parameter", "IncludeFile")
#: Metaflow's ``Config``: a class attribute whose value the front end resolves (frontend/configs.py).
CONFIG_CLASS = "Config"
#: Decorators that make a method take no ``self``: it assigns no artifacts when called.
_NO_SELF = frozenset({"staticmethod", "classmethod"})


@dataclass
class DecoratorCall:
    """A decorator as written: ``@name`` or ``@name(key=value, ...)``."""

    name: str
    node: ast.expr
    keywords: dict[str, ast.expr]
    positional: list[ast.expr]
    line: int
    file: str | None = None  # a base flow's module, for a flow decorator the flow inherits


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
    file: str = ""  # the file that defines it, as diagnostics show it
    owner: str = ""  # the class that defines it
    takes_self: bool = True


@dataclass
class ParameterSource:
    """``attr = Parameter("name", ...)`` / ``IncludeFile(...)`` at class level."""

    attribute: str
    call: ast.Call
    line: int
    is_file: bool
    file: str = ""


@dataclass
class FlowSource:
    """Everything the AST says about the flow class (its own members and inherited ones)."""

    file: str  # basename, as diagnostics and the IR show it
    path: Path
    class_name: str
    class_node: ast.ClassDef
    line: int
    docstring: str | None
    methods: list[StepSource] = field(default_factory=list)
    parameters: list[ParameterSource] = field(default_factory=list)
    class_attributes: dict[str, int] = field(default_factory=dict)
    # `attr = Config(...)`: attribute -> (file, line); each is a class attribute too
    configs: dict[str, tuple[str, int]] = field(default_factory=dict)
    flow_decorators: list[DecoratorCall] = field(default_factory=list)
    # methods defined again in the same class body (each later definition; the last one wins)
    redefined: list[StepSource] = field(default_factory=list)
    # base classes flowc could not read (installed packages, computed bases): they may define anything
    opaque_bases: tuple[str, ...] = ()
    # names the flow's module imports from flowc/metaflow, and names it binds to anything else
    api_imports: frozenset[str] = frozenset()
    own_names: frozenset[str] = frozenset()

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


def _api_name(node: ast.expr, aliases: dict[str, str]) -> str | None:
    """The authoring-API name ``node`` refers to (``from flowc import step as s``: ``s`` -> ``step``)."""
    name = dotted_tail(node)
    if isinstance(node, ast.Name) and name is not None:
        return aliases.get(name, name)
    return name


def _decorator_call(node: ast.expr, aliases: dict[str, str]) -> DecoratorCall | None:
    if isinstance(node, ast.Call):
        name = _api_name(node.func, aliases)
        if name is None:
            return None
        # `**mapping` (`@environment(**config)`) is kept under the key "**": never a literal, so
        # the arguments are read from the imported module, where the mapping was unpacked.
        keywords = {k.arg if k.arg is not None else "**": k.value for k in node.keywords}
        return DecoratorCall(name, node, keywords, list(node.args), node.lineno)
    name = _api_name(node, aliases)
    if name is None:
        return None
    return DecoratorCall(name, node, {}, [], node.lineno)


def _method(node: ast.FunctionDef, file: str, owner: str, aliases: dict[str, str]) -> StepSource:
    decorators = [d for d in (_decorator_call(n, aliases) for n in node.decorator_list) if d is not None]
    is_step = any(d.name == "step" and not d.keywords and not d.positional for d in decorators)
    return StepSource(
        name=node.name,
        node=node,
        line=node.lineno,
        is_step=is_step,
        arg_names=[a.arg for a in node.args.posonlyargs + node.args.args],
        decorators=[d for d in decorators if d.name != "step"],
        docstring=ast.get_docstring(node),
        body=BodyFacts(),  # scanned once every helper of the class is known
        has_varargs=bool(
            node.args.vararg or node.args.kwarg or node.args.kwonlyargs or node.args.defaults
        ),
        file=file,
        owner=owner,
        takes_self=not any(d.name in _NO_SELF for d in decorators),
    )


def _main_instantiations(module: ast.Module) -> set[str]:
    """Class names called under ``if __name__ == "__main__":`` (how a file names its flow)."""
    names: set[str] = set()
    for node in module.body:
        if isinstance(node, ast.If) and "__main__" in ast.unparse(node.test):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name):
                    names.add(inner.func.id)
    return names


def _has_steps(node: ast.ClassDef, aliases: dict[str, str]) -> bool:
    return any(
        isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
        and any(_api_name(d, aliases) == "step" for d in item.decorator_list)
        for item in node.body
    )


def find_flow_classes(index: ModuleIndex) -> list[ast.ClassDef]:
    """FlowSpec subclasses defined at module level, in source order.

    A class whose bases cannot all be read but that has ``@step`` methods counts too: its base is
    probably a flow from an installed package.
    """
    module, path = index.flow_module, index.flow_path
    aliases = flowc_aliases(module)
    found: list[ast.ClassDef] = []
    for node in module.body:
        if not isinstance(node, ast.ClassDef):
            continue
        linear = index.linearize(ClassRef(node, path.resolve()))
        if is_flow(linear) or (opaque_bases(linear) and _has_steps(node, aliases)):
            found.append(node)
    return found


def pick_flow_class(index: ModuleIndex) -> tuple[ast.ClassDef | None, list[ast.ClassDef]]:
    """The flow class of the file and the candidates (for a diagnostic when it is ambiguous)."""
    candidates = find_flow_classes(index)
    if len(candidates) <= 1:
        return (candidates[0] if candidates else None), candidates
    started = _main_instantiations(index.flow_module)
    chosen = [c for c in candidates if c.name in started]
    if len(chosen) == 1:
        return chosen[0], candidates
    # A base flow and one subclass of it: the subclass is the flow.
    path = index.flow_path.resolve()
    subclassed = {
        id(base.node)
        for c in candidates
        for base in index.linearize(ClassRef(c, path))[1:]
        if isinstance(base, ClassRef)
    }
    leaves = [c for c in candidates if id(c) not in subclassed]
    if len(leaves) == 1:
        return leaves[0], candidates
    return None, candidates


def _parameter_call(value: ast.expr, aliases: dict[str, str]) -> tuple[ast.Call, bool] | None:
    if isinstance(value, ast.Call):
        name = _api_name(value.func, aliases)
        if name in PARAMETER_CLASSES:
            return value, name == "IncludeFile"
    return None


def _is_config_call(value: ast.expr, aliases: dict[str, str]) -> bool:
    return isinstance(value, ast.Call) and _api_name(value.func, aliases) == CONFIG_CLASS


@dataclass
class _Members:
    """A class's members by name, in first-definition order, later definitions winning.

    A parameter and a method of the same name are both kept (Python keeps the later one): the
    checks report the parameter as shadowed rather than let one silently vanish.
    """

    methods: dict[str, StepSource] = field(default_factory=dict)
    parameters: dict[str, ParameterSource] = field(default_factory=dict)
    constants: dict[str, int] = field(default_factory=dict)
    configs: dict[str, tuple[str, int]] = field(default_factory=dict)
    redefined: list[StepSource] = field(default_factory=list)

    def add_method(self, method: StepSource) -> None:
        self.constants.pop(method.name, None)
        self.methods[method.name] = method

    def add_parameter(self, parameter: ParameterSource) -> None:
        self.constants.pop(parameter.attribute, None)
        self.parameters[parameter.attribute] = parameter

    def add_constant(self, name: str, line: int) -> None:
        self.parameters.pop(name, None)  # `x = Parameter(...)` then `x = 3`: x is a constant
        self.configs.pop(name, None)
        if name not in self.methods:
            self.constants.setdefault(name, line)


def _bound_names(target: ast.expr) -> list[str]:
    """Names an assignment target binds (``A, (B, *C) = ...`` binds A, B and C)."""
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, ast.Starred):
        return _bound_names(target.value)
    if isinstance(target, ast.Tuple | ast.List):
        return [n for element in target.elts for n in _bound_names(element)]
    return []


def _class_members(node: ast.ClassDef, file: str, aliases: dict[str, str]) -> _Members:
    members = _Members()

    def visit(statements: list[ast.stmt]) -> None:
        for item in statements:
            if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                method = _method(item, file, node.name, aliases)  # type: ignore[arg-type]
                if item.name in members.methods:
                    members.redefined.append(method)
                members.add_method(method)
            elif isinstance(item, ast.Assign | ast.AnnAssign):
                value = item.value
                targets = item.targets if isinstance(item, ast.Assign) else [item.target]
                parameter = _parameter_call(value, aliases) if value is not None else None
                for target in targets:
                    if parameter is not None and isinstance(target, ast.Name):
                        members.add_parameter(
                            ParameterSource(target.id, parameter[0], item.lineno, parameter[1], file)
                        )
                    elif value is not None:
                        for name in _bound_names(target):
                            members.add_constant(name, item.lineno)
                        if isinstance(target, ast.Name) and _is_config_call(value, aliases):
                            members.configs[target.id] = (file, item.lineno)
            elif isinstance(item, ast.AugAssign):
                for name in _bound_names(item.target):
                    members.add_constant(name, item.lineno)
            elif isinstance(item, ast.ClassDef):
                members.add_constant(item.name, item.lineno)  # a nested class reads as self.Name
            elif isinstance(item, ast.Import | ast.ImportFrom):
                for alias in item.names:
                    members.add_constant((alias.asname or alias.name).split(".")[0], item.lineno)
            elif isinstance(item, ast.If | ast.Try | ast.With | ast.For | ast.While):
                # Class-level blocks (`if sys.platform == ...: LIMIT = 1`) bind class attributes too.
                for block in ("body", "orelse", "finalbody"):
                    visit(getattr(item, block, []))
                for handler in getattr(item, "handlers", []):
                    visit(handler.body)
                if isinstance(item, ast.For):
                    for name in _bound_names(item.target):
                        members.add_constant(name, item.lineno)

    visit(node.body)
    return members


def _scan_bodies(methods: list[StepSource]) -> None:
    """Scans helpers first (what calling each assigns), then the steps with that knowledge."""
    helpers = [m for m in methods if not m.is_step and m.takes_self]
    own = {m.name: scan_body(m.node) for m in helpers}
    facts = helper_facts(own)
    for method in helpers:
        method.body = own[method.name]
    for method in methods:
        if method.is_step:
            method.body = scan_body(method.node, facts)


def _inherited_flow_decorators(index: ModuleIndex, linear: list[ClassRef]) -> list[DecoratorCall]:
    """The flow decorators of the flow class and of the base flows it inherits (``linear``: its
    MRO, the flow class first), as Metaflow applies a base flow's ``@pypi_base`` or ``@project`` to
    the flows that subclass it. A class's decorators of one name replace its bases' of that name;
    each inherited one names the module it is written in (its diagnostics point there)."""
    found: list[DecoratorCall] = []
    for ref in reversed(linear):
        module = index.module(ref.path)
        aliases = flowc_aliases(module) if module is not None else {}
        own = [d for d in (_decorator_call(n, aliases) for n in ref.node.decorator_list) if d is not None]
        if ref is not linear[0]:
            for call in own:
                call.file = index.display(ref.path)
        names = {call.name for call in own}
        found = [call for call in found if call.name not in names] + own
    return found


def read_flow_source(index: ModuleIndex, class_node: ast.ClassDef) -> FlowSource:
    """Collects the facts of ``class_node`` and its bases (steps, helpers, parameters, constants)."""
    path = index.flow_path
    flow = FlowSource(
        file=path.name,
        path=path,
        class_name=class_node.name,
        class_node=class_node,
        line=class_node.lineno,
        docstring=ast.get_docstring(class_node),
    )
    flow.api_imports, flow.own_names = name_origins(index.flow_module)
    linear = index.linearize(ClassRef(class_node, path.resolve()))
    flow.opaque_bases = tuple(opaque_bases(linear))
    flow.flow_decorators = _inherited_flow_decorators(index, [b for b in linear if isinstance(b, ClassRef)])
    # Python's lookup: the first class in the MRO defining a name wins. Walking the MRO from the
    # root down and letting each class override keeps a base's members in their source order.
    merged = _Members()
    for ref in reversed([b for b in linear if isinstance(b, ClassRef)]):
        module = index.module(ref.path)
        aliases = flowc_aliases(module) if module is not None else {}
        members = _class_members(ref.node, index.display(ref.path), aliases)
        flow.redefined.extend(members.redefined)
        for method in members.methods.values():
            merged.add_method(method)
        for parameter in members.parameters.values():
            merged.add_parameter(parameter)
        for name, line in members.constants.items():
            merged.methods.pop(name, None)  # a subclass's constant hides a base's method
            merged.add_constant(name, line)
        merged.configs.update(members.configs)
    flow.methods = list(merged.methods.values())
    flow.parameters = list(merged.parameters.values())
    flow.class_attributes = merged.constants
    flow.configs = merged.configs
    _scan_bodies(flow.methods)
    return flow
