"""String literals inside intrinsic functions (``States.Format``, ``States.Array``).

Inside an intrinsic function a string literal is in single quotes, and ``'``, ``{``, ``}`` and
``\\`` must be escaped with a backslash, or the definition is invalid (or, for braces in
``States.Format``, a literal becomes a placeholder).
https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html#amazon-states-language-intrinsic-functions-escapes
"""

from __future__ import annotations

__all__ = ["escape", "quote"]


def escape(text: str) -> str:
    """``text`` with the characters an intrinsic function's string literal reserves escaped."""
    return text.replace("\\", "\\\\").replace("'", "\\'").replace("{", "\\{").replace("}", "\\}")


def quote(text: str) -> str:
    """``text`` as a string literal argument: ``'it\\'s'``."""
    return f"'{escape(text)}'"
