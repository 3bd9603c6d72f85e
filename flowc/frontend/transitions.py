"""Reads one ``self.next(...)`` call into a :class:`Transition` (or says why it cannot).

The forms (as in Metaflow): ``self.next(self.a)``, ``self.next(self.a, self.b)``,
``self.next(self.a, foreach="items")`` and ``self.next({"x": self.a}, condition="attr")``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

__all__ = ["Transition", "read_transition"]


@dataclass(frozen=True)
class Transition:
    """A parsed ``self.next``: ``kind`` is linear, split, foreach or switch."""

    kind: str
    targets: tuple[str, ...]  # in call order (for a switch, case order, duplicates kept)
    line: int
    foreach: str | None = None
    condition: str | None = None
    cases: tuple[tuple[str, str], ...] = ()  # (key, target) for a switch


def _self_attribute(node: ast.expr, self_name: str) -> str | None:
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == self_name:
        return node.attr
    return None


def _string(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def read_transition(call: ast.Call, self_name: str = "self") -> Transition | str:
    """The transition written by ``call``, or a message saying what is malformed."""
    line = call.lineno
    keywords = {k.arg: k.value for k in call.keywords}
    unknown = sorted(str(k) for k in keywords if k not in ("foreach", "condition"))
    if unknown:
        return f"self.next() got unknown keyword argument(s) {', '.join(unknown)}"
    if "foreach" in keywords and "condition" in keywords:
        return "self.next() takes either foreach= or condition=, not both"
    if not call.args:
        return "self.next() names no step"

    if len(call.args) == 1 and isinstance(call.args[0], ast.Dict):
        mapping = call.args[0]
        if "condition" not in keywords:
            return "a switch (a dict of cases) needs condition='attribute'"
        condition = _string(keywords["condition"])
        if condition is None:
            return "condition= must be a string literal naming an artifact"
        cases: list[tuple[str, str]] = []
        for key_node, value_node in zip(mapping.keys, mapping.values, strict=True):
            key = _string(key_node) if key_node is not None else None
            target = _self_attribute(value_node, self_name)
            if key is None:
                return "switch case keys must be string literals"
            if target is None:
                return f"switch case {key!r} must name a step as self.<step>"
            cases.append((key, target))
        if not cases:
            return "a switch needs at least one case"
        keys = [k for k, _ in cases]
        if len(set(keys)) != len(keys):
            return "switch case keys must be distinct"
        return Transition(
            "switch", tuple(t for _, t in cases), line, condition=condition, cases=tuple(cases)
        )

    if "condition" in keywords:
        return "condition= needs the cases as a dict: self.next({'key': self.step}, condition='attr')"
    targets: list[str] = []
    for arg in call.args:
        target = _self_attribute(arg, self_name)
        if target is None:
            return f"self.next() arguments must be steps written as self.<step>, not {ast.unparse(arg)!r}"
        targets.append(target)
    if len(set(targets)) != len(targets):
        return "self.next() names the same step twice"

    if "foreach" in keywords:
        variable = _string(keywords["foreach"])
        if variable is None:
            return "foreach= must be a string literal naming an artifact"
        if len(targets) != 1:
            return "a foreach goes to exactly one step"
        return Transition("foreach", tuple(targets), line, foreach=variable)
    if len(targets) > 1:
        return Transition("split", tuple(targets), line)
    return Transition("linear", tuple(targets), line)
