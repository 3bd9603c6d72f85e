"""Which classes a flow class inherits from, read from the AST of its file and of local modules.

A flow may subclass a base flow or mix in helper classes, defined in the same file or imported from
a module beside it (``from base_flows import BaseFlow``, ``from .mixins import Loader``), as any
Python class does. The front end needs those classes' steps, helpers, parameters and constants, so
it resolves each base to its ``class`` statement: names bound by a module-level ``class``, by
``from X import Y [as Z]`` or ``import X [as Z]`` (also inside a top-level ``if`` / ``try``, the
way ``try: from metaflow import FlowSpec / except ImportError: from flowc import FlowSpec`` is
written), where module ``X`` is a ``.py`` file or package under the flow's folder (or the importing
file's package, for relative imports). The method resolution order is Python's (C3). A base that is
neither (a class from an installed package, say) is *opaque*: the checks then treat what it might
define as unknown rather than absent. Nothing is imported.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "API_MODULES",
    "FLOWSPEC",
    "ClassRef",
    "ModuleIndex",
    "Opaque",
    "flowc_aliases",
    "is_flow",
    "name_origins",
    "opaque_bases",
]

#: Packages whose ``FlowSpec``, ``step``, ``Parameter``, ... are the authoring API.
API_MODULES = frozenset({"flowc", "metaflow"})
#: Base names that contribute nothing (``class Mixin(object):``).
_EMPTY_BASES = frozenset({"object", "ABC", "Generic", "Protocol"})
_MAX_DEPTH = 16  # import chains followed (re-exports); deeper is opaque


@dataclass(frozen=True)
class ClassRef:
    """A ``class`` statement and the file it is in."""

    node: ast.ClassDef
    path: Path

    @property
    def name(self) -> str:
        return self.node.name


@dataclass(frozen=True)
class Opaque:
    """A base class the front end cannot read (``text`` is how the source writes it)."""

    text: str


#: The authoring API's ``FlowSpec`` (the root of every flow's hierarchy).
FLOWSPEC = Opaque("FlowSpec")
_EMPTY = Opaque("object")

Base = ClassRef | Opaque


def _top_level_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Module-level statements, including those inside top-level ``if`` / ``try`` blocks."""
    for statement in body:
        yield statement
        if isinstance(statement, ast.If):
            yield from _top_level_statements(statement.body)
            yield from _top_level_statements(statement.orelse)
        elif isinstance(statement, ast.Try):
            yield from _top_level_statements(statement.body)
            for handler in statement.handlers:
                yield from _top_level_statements(handler.body)
            yield from _top_level_statements(statement.orelse)
            yield from _top_level_statements(statement.finalbody)


def flowc_aliases(module: ast.Module) -> dict[str, str]:
    """Local names bound to the authoring API under another name (``from flowc import step as s``)."""
    aliases: dict[str, str] = {}
    for statement in _top_level_statements(module.body):
        if (
            isinstance(statement, ast.ImportFrom)
            and statement.level == 0
            and (statement.module or "").split(".")[0] in API_MODULES
        ):
            for alias in statement.names:
                if alias.asname and alias.asname != alias.name:
                    aliases[alias.asname] = alias.name
    return aliases


@dataclass
class _Binding:
    """What a module-level name is bound to, last binding winning (as Python does)."""

    kind: str  # "class", "from", "import", "other"
    node: ast.AST | None = None
    module: str | None = None  # for "from" / "import": the module named
    level: int = 0
    attribute: str | None = None  # for "from": the imported name


def _bindings(module: ast.Module) -> dict[str, _Binding]:
    found: dict[str, _Binding] = {}
    for statement in _top_level_statements(module.body):
        if isinstance(statement, ast.ClassDef):
            found[statement.name] = _Binding("class", statement)
        elif isinstance(statement, ast.ImportFrom):
            for alias in statement.names:
                found[alias.asname or alias.name] = _Binding(
                    "from", module=statement.module or "", level=statement.level, attribute=alias.name
                )
        elif isinstance(statement, ast.Import):
            for alias in statement.names:
                if alias.asname:
                    found[alias.asname] = _Binding("import", module=alias.name)
                else:
                    top = alias.name.split(".")[0]
                    found[top] = _Binding("import", module=top)
        elif isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
            found[statement.name] = _Binding("other")
        elif isinstance(statement, ast.Assign | ast.AnnAssign):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    found[target.id] = _Binding("other")
    return found


def name_origins(module: ast.Module) -> tuple[frozenset[str], frozenset[str]]:
    """The API names the module imports from flowc or metaflow, and the module-level names it
    binds to anything else (its own functions, classes, assignments, other imports)."""
    api: set[str] = set()
    other: set[str] = set()
    for name, binding in _bindings(module).items():
        module_name = binding.module or ""
        if binding.kind == "from" and binding.level == 0 and module_name.split(".")[0] in API_MODULES:
            api.add(binding.attribute or name)
        else:
            other.add(name)
    return frozenset(api), frozenset(other)


@dataclass
class ModuleIndex:
    """The flow file's module and the local modules it imports, each parsed once."""

    flow_path: Path
    flow_module: ast.Module
    _modules: dict[Path, ast.Module | None] = field(default_factory=dict)
    _bindings: dict[Path, dict[str, _Binding]] = field(default_factory=dict)
    _linear: dict[tuple[Path, str, int], list[Base]] = field(default_factory=dict)
    # (file, line, message) of each local module a base class is imported from that did not parse
    unreadable: list[tuple[str, int | None, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._modules[self._key(self.flow_path)] = self.flow_module

    @staticmethod
    def _key(path: Path) -> Path:
        return path.resolve()

    @property
    def root(self) -> Path:
        return self.flow_path.resolve().parent

    def display(self, path: Path) -> str:
        """How diagnostics and the IR name ``path``: relative to the flow's folder (posix)."""
        resolved = self._key(path)
        if resolved == self._key(self.flow_path):
            return self.flow_path.name
        try:
            return resolved.relative_to(self.root).as_posix()
        except ValueError:
            return resolved.name

    def module(self, path: Path) -> ast.Module | None:
        key = self._key(path)
        if key not in self._modules:
            try:
                self._modules[key] = ast.parse(key.read_text(encoding="utf-8"), filename=key.name)
            except SyntaxError as exc:
                self._modules[key] = None
                self.unreadable.append((self.display(key), exc.lineno, f"syntax error: {exc.msg}"))
            except (OSError, UnicodeDecodeError, ValueError) as exc:
                self._modules[key] = None
                self.unreadable.append((self.display(key), None, f"cannot read the module: {exc}"))
        return self._modules[key]

    def bindings(self, path: Path) -> dict[str, _Binding]:
        key = self._key(path)
        if key not in self._bindings:
            module = self.module(key)
            self._bindings[key] = _bindings(module) if module is not None else {}
        return self._bindings[key]

    # ---- modules ---------------------------------------------------------------------------
    def module_file(self, name: str, level: int, importer: Path) -> Path | None:
        """The file of module ``name`` imported from ``importer`` (None: not a local module)."""
        if level == 0:
            if name.split(".")[0] in API_MODULES:
                return None
            base = self.root
        else:
            base = self._key(importer).parent
            for _ in range(level - 1):
                base = base.parent
        parts = [p for p in name.split(".") if p]
        candidate = base.joinpath(*parts) if parts else base
        for path in (candidate.with_name(candidate.name + ".py"), candidate / "__init__.py"):
            if parts and path.is_file():
                return path
        if not parts and (candidate / "__init__.py").is_file():
            return candidate / "__init__.py"
        return None

    # ---- classes ---------------------------------------------------------------------------
    def lookup(self, name: str, path: Path, depth: int = 0) -> Base:
        """What the module-level ``name`` of the module at ``path`` is, as a base class."""
        if depth > _MAX_DEPTH:
            return Opaque(name)
        binding = self.bindings(path).get(name)
        if binding is None:
            if name == "FlowSpec":
                return FLOWSPEC
            return _EMPTY if name in _EMPTY_BASES else Opaque(name)
        if binding.kind == "class":
            assert isinstance(binding.node, ast.ClassDef)
            return ClassRef(binding.node, self._key(path))
        if binding.kind == "from":
            assert binding.module is not None and binding.attribute is not None
            if binding.level == 0 and binding.module.split(".")[0] in API_MODULES:
                return FLOWSPEC if binding.attribute == "FlowSpec" else Opaque(name)
            if binding.level == 0 and binding.module in ("abc", "typing", "typing_extensions"):
                return _EMPTY
            target = self.module_file(binding.module, binding.level, path)
            if target is None:
                # `from package import module` names a module, not a class: not a base.
                return Opaque(name)
            return self.lookup(binding.attribute, target, depth + 1)
        return Opaque(name)

    def resolve(self, expression: ast.expr, path: Path, depth: int = 0) -> Base:
        """The class a base-class expression of the module at ``path`` names."""
        if isinstance(expression, ast.Name):
            return self.lookup(expression.id, path, depth)
        dotted: list[str] = []
        node: ast.expr = expression
        while isinstance(node, ast.Attribute):
            dotted.insert(0, node.attr)
            node = node.value
        if not isinstance(node, ast.Name) or not dotted:
            return Opaque(ast.unparse(expression))
        binding = self.bindings(path).get(node.id)
        if binding is not None and binding.kind == "import" and binding.module is not None:
            module = binding.module.split(".")
            if module[0] in API_MODULES:
                return FLOWSPEC if dotted[-1] == "FlowSpec" else Opaque(ast.unparse(expression))
            *more, attribute = dotted
            target = self.module_file(".".join(module + more), 0, path)
            if target is not None:
                return self.lookup(attribute, target, depth + 1)
        if binding is not None and binding.kind == "from" and len(dotted) == 1 and binding.module is not None:
            # `from package import module` then `module.Base`.
            submodule = f"{binding.module}.{binding.attribute}" if binding.module else str(binding.attribute)
            target = self.module_file(submodule, binding.level, path)
            if target is not None:
                return self.lookup(dotted[0], target, depth + 1)
        if dotted[-1] == "FlowSpec":
            return FLOWSPEC
        return Opaque(ast.unparse(expression))

    def linearize(self, ref: ClassRef, depth: int = 0) -> list[Base]:
        """``ref``'s method resolution order (C3, as Python computes it), ``ref`` first.

        FlowSpec and opaque bases appear as :class:`Opaque` entries; a hierarchy Python would
        reject (inconsistent order, a class inheriting itself) falls back to depth-first order.
        """
        key = (ref.path, ref.name, ref.node.lineno)
        if key in self._linear:
            return self._linear[key]
        self._linear[key] = [ref]  # a cycle (class A(B), class B(A)) ends here
        if depth > _MAX_DEPTH:
            return [ref]
        bases = [self.resolve(b, ref.path, depth) for b in ref.node.bases]
        sequences = [
            self.linearize(b, depth + 1) if isinstance(b, ClassRef) else [b] for b in bases
        ]
        merged = _c3_merge([list(s) for s in sequences] + [list(bases)])
        if merged is None:
            merged = list(dict.fromkeys(b for s in sequences for b in s))
        result = [ref, *merged]
        self._linear[key] = result
        return result


def _c3_merge(sequences: list[list[Base]]) -> list[Base] | None:
    result: list[Base] = []
    sequences = [s for s in sequences if s]
    while sequences:
        for sequence in sequences:
            head = sequence[0]
            if not any(head in other[1:] for other in sequences):
                break
        else:
            return None
        result.append(head)
        sequences = [[b for b in s if b != head] for s in sequences]
        sequences = [s for s in sequences if s]
    return result


def is_flow(linear: list[Base]) -> bool:
    """Whether a class with this MRO derives from FlowSpec."""
    return FLOWSPEC in linear


def opaque_bases(linear: list[Base]) -> list[str]:
    """The bases in an MRO that the front end could not read (FlowSpec and ``object`` excepted)."""
    return [b.text for b in linear if isinstance(b, Opaque) and b not in (FLOWSPEC, _EMPTY)]
