"""The part of Argo's expression language (expr-lang, https://expr-lang.org/docs/language-definition)
that compiled documents use, evaluated the way Argo evaluates ``{{=...}}`` tags.

Argo's environment (https://argo-workflows.readthedocs.io/en/latest/variables/#expression): the
flat variables (``tasks.a.outputs.parameters.control``) expanded into nested maps, plus the
functions ``asInt``, ``asFloat``, ``jsonpath``, ``toJson`` and ``string``, and expr-lang's builtin
``replace`` (https://expr-lang.org/docs/language-definition). Results are printed with
Go's ``%v`` (util/template/expression_template.go), which is why ``jsonpath`` numbers need ``asInt``.

Reading a missing map key gives nil, and reading a field *of* nil is an error: exactly what happens
in Argo when an expression touches the outputs of a task that did not run.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["ExpressionError", "evaluate", "expand_scope", "go_format"]


class ExpressionError(ValueError):
    """An expression that Argo would reject or fail to evaluate."""


_TOKEN = re.compile(
    r"\s*(?:(?P<number>\d+(?:\.\d+)?)|(?P<string>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>==|!=|&&|\|\||<=|>=|[-+*/<>!?:.,()\[\]{}]))"
)


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise ExpressionError(f"cannot read expression at {text[position:]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
        while position < len(text) and text[position].isspace():
            position += 1
    tokens.append(("end", ""))
    return tokens


_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}
_ESCAPE = re.compile(r"\\(?:([0-7]{3})|x([0-9A-Fa-f]{2})|u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))", re.S)


def _unquote(literal: str) -> str:
    """A string literal's value, decoded as expr-lang's lexer does (parser/lexer/lexer.go,
    ``scanString`` / ``scanEscape``): a raw line break inside is an error, and only the escapes
    listed there exist (the literal's own quote, ``abfnrtv\\``, octal, ``x``, ``u``, ``U``)."""
    quote, body = literal[0], literal[1:-1]
    if "\n" in body:
        raise ExpressionError(f"literal not terminated: {literal!r}")

    def decode(match: re.Match[str]) -> str:
        octal, hex2, hex4, hex8, simple = match.groups()
        if octal is not None:
            return chr(int(octal, 8))
        if hex2 or hex4 or hex8:
            return chr(int(hex2 or hex4 or hex8, 16))
        if simple == quote:
            return quote
        if simple in _SIMPLE_ESCAPES:
            return _SIMPLE_ESCAPES[simple]
        raise ExpressionError(f"invalid char escape \\{simple} in {literal!r}")

    return _ESCAPE.sub(decode, body)


def _jsonpath(document: Any, path: str) -> Any:
    if not isinstance(document, str):
        raise ExpressionError(f"jsonpath of {document!r}: not a JSON string")
    value = json.loads(document)
    if not path.startswith("$"):
        raise ExpressionError(f"unsupported JSON path {path!r}")
    for part in filter(None, path[1:].split(".")):
        if not isinstance(value, dict) or part not in value:
            raise ExpressionError(f"JSON path {path!r} not found in {document!r}")
        value = value[part]
    if isinstance(value, int) and not isinstance(value, bool):
        value = float(value)  # Go's encoding/json decodes every number as float64
    return value


def _as_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ExpressionError("asInt of a bool")
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            raise ExpressionError(f"asInt({value!r})") from None
    raise ExpressionError(f"asInt of {value!r}")


def _text(value: Any) -> str:
    # expr-lang's builtins take strings only (builtin/builtin.go: args[0].(string)).
    if not isinstance(value, str):
        raise ExpressionError(f"{value!r} is not a string")
    return value


def _to_json(value: Any) -> str:
    # Go's json.Marshal: map keys sorted, no spaces.
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


FUNCTIONS: Mapping[str, Callable[..., Any]] = {
    "jsonpath": _jsonpath,
    "asInt": _as_int,
    "asFloat": lambda v: float(v),
    "toJson": _to_json,
    "string": lambda v: go_format(v),
    "replace": lambda text, old, new: _text(text).replace(_text(old), _text(new)),
}


def go_format(value: Any) -> str:
    """``fmt.Sprintf("%v", value)`` for the types expressions produce."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value == 0:
            return "0"
        exponent = math.floor(math.log10(abs(value)))
        # strconv.FormatFloat(v, 'g', -1, 64): exponent form below 1e-4 and from 1e6 on.
        if exponent < -4 or exponent >= 6:
            digits = repr(value).replace("-", "").replace(".", "").lstrip("0").rstrip("0").split("e")[0]
            text = f"{value:.{max(len(digits) - 1, 0)}e}"
            mantissa, _, power = text.partition("e")
            return f"{mantissa}e{power[0]}{power[1:].zfill(2)}"
        return repr(value).removesuffix(".0")
    return str(value)


class _Parser:
    """Pratt parser producing a closure over the environment."""

    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.position = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.position]

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.tokens[self.position]
        if value is not None and token[1] != value:
            raise ExpressionError(f"expected {value!r}, found {token[1]!r}")
        self.position += 1
        return token

    def parse(self) -> Callable[[Mapping[str, Any]], Any]:
        node = self.ternary()
        if self.peek()[0] != "end":
            raise ExpressionError(f"unexpected {self.peek()[1]!r}")
        return node

    def ternary(self) -> Callable[[Mapping[str, Any]], Any]:
        condition = self.binary(0)
        if self.peek()[1] == "?":
            self.take("?")
            yes = self.ternary()
            self.take(":")
            no = self.ternary()
            return lambda env: yes(env) if _truth(condition(env)) else no(env)
        return condition

    _PRECEDENCE = {"||": 1, "&&": 2, "==": 3, "!=": 3, "<": 4, ">": 4, "<=": 4, ">=": 4, "+": 5, "-": 5}

    def binary(self, minimum: int) -> Callable[[Mapping[str, Any]], Any]:
        left = self.unary()
        while True:
            kind, op = self.peek()
            precedence = self._PRECEDENCE.get(op) if kind == "op" else None
            if precedence is None or precedence <= minimum:
                return left
            self.take()
            right = self.binary(precedence)
            left = _binary(op, left, right)

    def unary(self) -> Callable[[Mapping[str, Any]], Any]:
        if self.peek()[1] == "!":
            self.take()
            operand = self.unary()
            return lambda env: not _truth(operand(env))
        return self.postfix(self.primary())

    def primary(self) -> Callable[[Mapping[str, Any]], Any]:
        kind, value = self.take()
        if kind == "number":
            number = float(value) if "." in value else int(value)
            return lambda env: number
        if kind == "string":
            text = _unquote(value)
            return lambda env: text
        if kind == "name":
            if value in ("true", "false"):
                return lambda env: value == "true"
            if value == "nil":
                return lambda env: None
            if self.peek()[1] == "(":
                return self.call(value)
            return lambda env: _lookup_root(env, value)
        if value == "(":
            inner = self.ternary()
            self.take(")")
            return inner
        if value == "{":
            pairs = []
            while self.peek()[1] != "}":
                key = self.ternary()
                self.take(":")
                pairs.append((key, self.ternary()))
                if self.peek()[1] == ",":
                    self.take(",")
            self.take("}")
            return lambda env: {k(env): v(env) for k, v in pairs}
        raise ExpressionError(f"unexpected {value!r}")

    def call(self, name: str) -> Callable[[Mapping[str, Any]], Any]:
        if name not in FUNCTIONS:
            raise ExpressionError(f"unknown function {name}")
        self.take("(")
        arguments = []
        while self.peek()[1] != ")":
            arguments.append(self.ternary())
            if self.peek()[1] == ",":
                self.take(",")
        self.take(")")
        function = FUNCTIONS[name]
        return lambda env: function(*(a(env) for a in arguments))

    def postfix(self, node: Callable[[Mapping[str, Any]], Any]) -> Callable[[Mapping[str, Any]], Any]:
        while self.peek()[1] in (".", "["):
            if self.take()[1] == ".":
                kind, field = self.take()
                if kind != "name":
                    raise ExpressionError(f"expected a field name, found {field!r}")
                node = _member(node, lambda env, f=field: f)
            else:
                index = self.ternary()
                self.take("]")
                node = _member(node, index)
        return node


def _truth(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ExpressionError(f"{value!r} is not a bool")
    return value


def _binary(op: str, left: Callable, right: Callable) -> Callable[[Mapping[str, Any]], Any]:
    if op == "&&":
        return lambda env: _truth(left(env)) and _truth(right(env))
    if op == "||":
        return lambda env: _truth(left(env)) or _truth(right(env))
    operations: dict[str, Callable[[Any, Any], Any]] = {
        "==": lambda a, b: a == b,
        "!=": lambda a, b: a != b,
        "<": lambda a, b: a < b,
        ">": lambda a, b: a > b,
        "<=": lambda a, b: a <= b,
        ">=": lambda a, b: a >= b,
        "+": lambda a, b: a + b,
        "-": lambda a, b: a - b,
    }
    operation = operations[op]
    return lambda env: operation(left(env), right(env))


def _lookup_root(env: Mapping[str, Any], name: str) -> Any:
    if name not in env:
        # expr-lang compiles against the environment: an unknown root name fails to compile.
        raise ExpressionError(f"unknown name {name}")
    return env[name]


def _member(node: Callable, key: Callable) -> Callable[[Mapping[str, Any]], Any]:
    def fetch(env: Mapping[str, Any]) -> Any:
        container = node(env)
        name = key(env)
        if container is None:
            raise ExpressionError(f"cannot fetch {name} from nil")
        if not isinstance(container, Mapping):
            raise ExpressionError(f"cannot fetch {name} from {type(container).__name__}")
        return container.get(name)

    return fetch


def expand_scope(flat: Mapping[str, str]) -> dict[str, Any]:
    """``{"tasks.a.status": "Succeeded"}`` -> ``{"tasks": {"a": {"status": "Succeeded"}}}``."""
    nested: dict[str, Any] = {}
    for key, value in sorted(flat.items()):
        parts = key.split(".")
        node = nested
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        if not isinstance(node.get(parts[-1]), dict):
            node[parts[-1]] = value
    return nested


def evaluate(expression: str, flat_scope: Mapping[str, str]) -> Any:
    """The value of ``expression`` in Argo's environment built from ``flat_scope``."""
    env = {**expand_scope(flat_scope), **FUNCTIONS}
    return _Parser(expression).parse()(env)
