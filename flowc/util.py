"""Small helpers Metaflow scripts import from ``metaflow.util``."""

from __future__ import annotations

from typing import Any

__all__ = ["is_stringish"]


def is_stringish(value: Any) -> bool:
    """True for ``str``, ``bytes`` and ``bytearray`` (what Metaflow treats as text)."""
    return isinstance(value, (str, bytes, bytearray))
