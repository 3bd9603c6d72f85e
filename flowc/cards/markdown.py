"""A small Markdown to HTML converter for the ``Markdown`` component (no dependency).

It covers what cards use: ``#`` headings, paragraphs, ``-``/``*``/``1.`` lists, fenced code
blocks, block quotes, horizontal rules, ``**bold**``, ``*italic*``, ``inline code`` and
``[links](url)``. Everything is HTML-escaped first, so text can never inject markup or script.
"""

from __future__ import annotations

import html
import re

__all__ = ["markdown_to_html"]

_INLINE = [
    (re.compile(r"`([^`]+)`"), r"<code>\1</code>"),
    (re.compile(r"\*\*(.+?)\*\*"), r"<strong>\1</strong>"),
    (re.compile(r"__(.+?)__"), r"<strong>\1</strong>"),
    (re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])"), r"<em>\1</em>"),
    (re.compile(r"(?<!\w)_(?!\s)(.+?)(?<!\s)_(?!\w)"), r"<em>\1</em>"),
]
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_LIST_ITEM = re.compile(r"^\s*([-*+]|\d+[.)])\s+(.*)$")


def _inline(text: str) -> str:
    text = html.escape(text, quote=False)
    for pattern, replacement in _INLINE:
        text = pattern.sub(replacement, text)

    def link(match: re.Match[str]) -> str:
        url = match.group(2)
        if not re.match(r"^(https?:|mailto:|#|/)", url):  # no javascript: URLs
            return match.group(0)
        return f'<a href="{html.escape(url)}">{match.group(1)}</a>'

    return _LINK.sub(link, text)


def markdown_to_html(text: str) -> str:
    """HTML for ``text`` (Markdown)."""
    out: list[str] = []
    lines = str(text).splitlines()
    paragraph: list[str] = []
    i = 0

    def flush() -> None:
        if paragraph:
            out.append("<p>" + " ".join(_inline(line.strip()) for line in paragraph) + "</p>")
            paragraph.clear()

    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith("```"):
            flush()
            block = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith("```"):
                block.append(lines[i])
                i += 1
            out.append("<pre><code>" + html.escape("\n".join(block)) + "</code></pre>")
        elif not stripped:
            flush()
        elif heading := re.match(r"^(#{1,6})\s+(.*?)\s*#*$", stripped):
            flush()
            level = len(heading.group(1))
            out.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif re.match(r"^([-*_])\s*(\1\s*){2,}$", stripped):
            flush()
            out.append("<hr>")
        elif stripped.startswith(">"):
            flush()
            quote = []
            while i < len(lines) and lines[i].strip().startswith(">"):
                quote.append(lines[i].strip()[1:].strip())
                i += 1
            out.append("<blockquote>" + markdown_to_html("\n".join(quote)) + "</blockquote>")
            continue
        elif item := _LIST_ITEM.match(line):
            flush()
            tag = "ol" if item.group(1)[0].isdigit() else "ul"
            items = []
            while i < len(lines) and (match := _LIST_ITEM.match(lines[i])):
                items.append(f"<li>{_inline(match.group(2))}</li>")
                i += 1
            out.append(f"<{tag}>{''.join(items)}</{tag}>")
            continue
        else:
            paragraph.append(line)
        i += 1
    flush()
    return "\n".join(out)
