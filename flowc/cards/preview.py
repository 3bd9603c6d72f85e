"""HTML previews of Python values for cards: a DataFrame's head, an array's shape and values,
images (bytes, PIL, matplotlib), anything else as a shortened ``repr``.

Only the task runner calls these (on the task's own values, in the task's own process); pandas,
numpy, PIL and matplotlib are recognised by duck typing and never imported here.
"""

from __future__ import annotations

import base64
import html
import io
import reprlib
from typing import Any

__all__ = ["image_data", "image_tag", "preview_html", "short_repr"]

#: Rows of a DataFrame shown in a preview.
PREVIEW_ROWS = 10
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"RIFF", "image/webp"),
    (b"<svg", "image/svg+xml"),
    (b"<?xml", "image/svg+xml"),
)


def _mime(data: bytes) -> str | None:
    for magic, mime in _MAGIC:
        if data.startswith(magic) and (mime != "image/webp" or data[8:12] == b"WEBP"):
            return mime
    return None


def _module_of(value: Any) -> str:
    return type(value).__module__.split(".", 1)[0]


def image_data(value: Any) -> tuple[bytes, str] | None:
    """``(bytes, MIME type)`` if ``value`` is an image: encoded bytes (PNG, JPEG, GIF, WebP,
    SVG), a PIL image or a matplotlib figure (or axes); else None."""
    if isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
        mime = _mime(data)
        return (data, mime) if mime else None
    module = _module_of(value)
    if module == "PIL" and hasattr(value, "save"):
        buffer = io.BytesIO()
        value.save(buffer, format="PNG")
        return buffer.getvalue(), "image/png"
    if module == "matplotlib":
        figure = value if hasattr(value, "savefig") else getattr(value, "figure", None)
        if figure is not None and hasattr(figure, "savefig"):
            buffer = io.BytesIO()
            figure.savefig(buffer, format="png", bbox_inches="tight")
            return buffer.getvalue(), "image/png"
    return None


def image_tag(data: bytes, mime: str, label: str | None = None) -> str:
    """An ``<img>`` holding the image itself (a data URL: the card needs no other file)."""
    encoded = base64.b64encode(data).decode("ascii")
    alt = html.escape(label or "image")
    return f'<img class="fc-image" alt="{alt}" src="data:{mime};base64,{encoded}">'


def short_repr(value: Any, limit: int = 400) -> str:
    shortener = reprlib.Repr()
    shortener.maxstring = limit
    shortener.maxother = limit
    shortener.maxlist = shortener.maxtuple = shortener.maxdict = shortener.maxset = 20
    try:
        text = shortener.repr(value)
    except Exception as exc:  # a broken __repr__ must not break the card
        text = f"<{type(value).__name__}: repr raised {type(exc).__name__}>"
    return text if len(text) <= limit else text[:limit] + "..."


def _is_dataframe(value: Any) -> bool:
    return _module_of(value) == "pandas" and hasattr(value, "head") and hasattr(value, "columns")


def _is_array(value: Any) -> bool:
    return _module_of(value) == "numpy" and hasattr(value, "shape") and hasattr(value, "dtype")


def dataframe_table(frame: Any, rows: int | None = PREVIEW_ROWS) -> tuple[list[str], list[list[str]]]:
    """Headers and the first ``rows`` rows (all when None) of a DataFrame, as text."""
    part = frame if rows is None else frame.head(rows)
    headers = [str(name) for name in [part.index.name or "", *part.columns]]
    body = [
        [str(index), *(short_repr(cell, 200) if not isinstance(cell, str) else cell for cell in row)]
        for index, row in zip(part.index, part.itertuples(index=False, name=None), strict=False)
    ]
    return headers, body


def table_html(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f'<table class="fc-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def preview_html(value: Any) -> str:
    """An HTML preview of ``value`` (never raises)."""
    try:
        image = image_data(value)
        if image is not None:
            return image_tag(*image)
        if _is_dataframe(value):
            headers, rows = dataframe_table(value)
            shape = f"{value.shape[0]} rows x {value.shape[1]} columns"
            return f'<div class="fc-meta">DataFrame, {shape}</div>' + table_html(headers, rows)
        if _is_array(value):
            import numpy  # already imported: the value is a numpy array

            values = numpy.array2string(value, threshold=60, edgeitems=3, max_line_width=100)
            meta = f"array, shape {tuple(value.shape)}, dtype {value.dtype}"
            return f'<div class="fc-meta">{html.escape(meta)}</div><pre>{html.escape(values)}</pre>'
    except Exception:  # fall back to the repr below
        pass
    return f"<pre>{html.escape(short_repr(value))}</pre>"
