"""The capability matrix (constructs by targets) as Markdown, written from each target's ``CAPABILITIES``.

``docs/targets.md`` embeds this table between two markers; a test keeps the two identical
(``FLOWC_REGENERATE=1`` rewrites the docs), so the docs cannot drift from what the code refuses.
"""

from __future__ import annotations

import importlib

from flowc.backends import TARGETS
from flowc.backends.base import CONSTRUCTS, Capabilities

__all__ = ["BEGIN_MARKER", "END_MARKER", "capabilities_of_all_targets", "render_matrix", "splice_matrix"]

BEGIN_MARKER = "<!-- capability matrix: written by flowc.backends.matrix, do not edit by hand -->"
END_MARKER = "<!-- end of capability matrix -->"


def capabilities_of_all_targets() -> list[Capabilities]:
    """Every target's declaration, in target-name order (importing only the small capability modules)."""
    return [importlib.import_module(TARGETS[name]).CAPABILITIES for name in sorted(TARGETS)]


def render_matrix(declarations: list[Capabilities] | None = None) -> str:
    """One row per construct: its description, then per target how it is lowered or why it is refused."""
    declarations = declarations if declarations is not None else capabilities_of_all_targets()
    header = "| construct | | " + " | ".join(c.target for c in declarations) + " |"
    rule = "|---|---|" + "---|" * len(declarations)
    rows = [header, rule]
    for construct, description in CONSTRUCTS.items():
        cells = []
        for declaration in declarations:
            if declaration.supports(construct):
                note = declaration.notes.get(construct, "")
                cells.append(f"yes: {note}" if note else "yes")
            else:
                cells.append(f"**refused**: {declaration.unsupported[construct]}")
        rows.append(f"| `{construct}` | {description} | " + " | ".join(_cell(c) for c in cells) + " |")
    limits = [(c.target, code, text) for c in declarations for code, text in sorted(c.limits.items())]
    if limits:
        rows += ["", "Shapes refused although each of their constructs is supported:", ""]
        rows += ["| target | code | refused |", "|---|---|---|"]
        rows += [f"| {target} | `{code}` | {_cell(text)} |" for target, code, text in limits]
    return "\n".join(rows) + "\n"


def splice_matrix(document: str, matrix: str) -> str:
    """``document`` with the text between the markers replaced by ``matrix``."""
    start = document.index(BEGIN_MARKER) + len(BEGIN_MARKER)
    end = document.index(END_MARKER)
    return document[:start] + "\n" + matrix + document[end:]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
