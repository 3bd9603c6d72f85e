"""A small, fast, deterministic YAML writer for JSON-like documents (dicts, lists, scalars).

PyYAML's pure-Python emitter took ~75 % of the compile time of a 200-step flow; this writes the
same data in a few milliseconds. Keys are sorted; a string is written plain only when no YAML 1.1
or 1.2 reader could take it for anything but that string, as a literal block when it is multi-line
text a block keeps exactly, otherwise as a JSON string (JSON string syntax is valid YAML
double-quoted syntax). Tests check ``yaml.safe_load(dump(x)) == x``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["dump"]

_PLAIN = re.compile(r"[A-Za-z_/][A-Za-z0-9_./-]*")
# YAML 1.1 booleans and nulls (PyYAML resolves these plain words), any case.
_RESERVED = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}
# Characters a YAML stream may not carry raw (https://yaml.org/spec/1.2.2/#51-character-set), plus
# the Unicode line breaks that a reader would fold inside a quoted scalar: written as \u escapes.
_UNPRINTABLE = re.compile(
    "[^\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|[\x85\u2028\u2029]"
)


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    if not isinstance(value, str):
        raise TypeError(f"cannot write {type(value).__name__} as YAML")
    if _PLAIN.fullmatch(value) and value.lower() not in _RESERVED:
        return value
    quoted = json.dumps(value, ensure_ascii=False)
    return _UNPRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", quoted)


def _block(value: Any) -> list[str] | None:
    """A multi-line string as a literal block scalar's lines (``|`` or ``|-``), when one is exact.

    A program or a long text then reads (and diffs) line by line instead of as one escaped line.
    Only text a literal block keeps byte for byte qualifies: printable, no carriage return, no
    trailing blanks, no blank or indented first line, at most one final newline
    (https://yaml.org/spec/1.2.2/#812-literal-style).
    """
    if not isinstance(value, str) or "\n" not in value.rstrip("\n"):
        return None
    body = value[:-1] if value.endswith("\n") else value
    lines = body.split("\n")
    if (
        body.endswith("\n")
        or "\r" in value
        or _UNPRINTABLE.search(value)
        or not lines[0].strip()
        or lines[0][0] in " \t"
        or any(line != line.rstrip(" \t") for line in lines)
    ):
        return None
    return ["|" if value.endswith("\n") else "|-", *lines]


def _item(prefix: str, value: Any, indent: int, out: list[str]) -> None:
    """``prefix`` (``key:`` or ``-``) and a scalar or empty collection, inline or as a block."""
    block = _block(value)
    if block is None:
        out.append(f"{prefix} {_inline(value)}")
        return
    out.append(f"{prefix} {block[0]}")
    pad = " " * (indent + 2)
    out.extend(f"{pad}{line}" if line else "" for line in block[1:])


def _lines(value: Any, indent: int, out: list[str]) -> None:
    pad = " " * indent
    if isinstance(value, Mapping):
        for key in sorted(value):
            item = value[key]
            if isinstance(item, Mapping | list) and item:
                out.append(f"{pad}{_scalar(key)}:")
                _lines(item, indent + 2, out)
            else:
                _item(f"{pad}{_scalar(key)}:", item, indent, out)
        return
    for item in value:
        if isinstance(item, Mapping | list) and item:
            nested: list[str] = []
            _lines(item, indent + 2, nested)
            out.append(f"{pad}- {nested[0][indent + 2 :]}" if isinstance(item, Mapping) else f"{pad}-")
            out.extend(nested[1:] if isinstance(item, Mapping) else nested)
        else:
            _item(f"{pad}-", item, indent, out)


def _inline(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return _scalar(value)


def dump(document: Mapping[str, Any]) -> str:
    """``document`` as block-style YAML with sorted keys, ending in a newline."""
    out: list[str] = []
    _lines(document, 0, out)
    return "\n".join(out) + "\n"
