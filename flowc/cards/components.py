"""Card components with the names and constructors of ``metaflow.cards``.

Each ``render()`` returns a self-contained HTML fragment (images as data URLs, a chart as its
Vega-Lite spec in JSON that the page's embedded Vega draws). A component that cannot render shows
an error box instead of breaking its card. Components marked ``REALTIME_UPDATABLE`` take
``update(...)``; the card shows the new value at the next ``current.card.refresh()`` (writes are
throttled there, see :mod:`flowc.cards.collector`).
"""

from __future__ import annotations

import functools
import html
import inspect
import json
import re
import traceback
from collections.abc import Callable
from typing import Any

from flowc.cards.card import MetaflowCardComponent, create_component_id
from flowc.cards.markdown import markdown_to_html
from flowc.cards.preview import (
    dataframe_table,
    image_data,
    image_tag,
    preview_html,
    short_repr,
)

__all__ = [
    "Artifact",
    "Error",
    "EventsTimeline",
    "Image",
    "JSONViewer",
    "Markdown",
    "ProgressBar",
    "PythonCode",
    "Table",
    "ValueBox",
    "VegaChart",
    "YAMLViewer",
]


def _error_box(title: str, detail: str) -> str:
    return (
        f'<div class="fc-error"><strong>{html.escape(title)}</strong><pre>{html.escape(detail)}</pre></div>'
    )


def _render_safely(render: Callable[[Any], str]) -> Callable[[Any], str]:
    """A component that fails to render shows why, in its place, instead of failing its card."""

    @functools.wraps(render)
    def wrapper(self: Any) -> str:
        if self.component_id is None:
            self.component_id = create_component_id(self)
        try:
            return render(self)
        except Exception as exc:
            return _error_box(
                f"{type(self).__name__} could not render: {type(exc).__name__}: {exc}",
                traceback.format_exc(limit=4),
            )

    return wrapper


class UserComponent(MetaflowCardComponent):
    """A built-in component (what ``current.card.append`` takes besides custom ones)."""

    def update(self, *args: Any, **kwargs: Any) -> None:
        import warnings

        warnings.warn(f"{type(self).__name__} cannot be updated while the task runs", stacklevel=2)


def _cell(value: Any) -> str:
    if isinstance(value, MetaflowCardComponent):
        rendered = value.render()
        return rendered if isinstance(rendered, str) else html.escape(json.dumps(rendered, default=str))
    return html.escape(value if isinstance(value, str) else short_repr(value, 200))


class Markdown(UserComponent):
    """Text written in Markdown: ``Markdown("# Title\\nSome *text*")``."""

    REALTIME_UPDATABLE = True

    def __init__(self, text: str | None = None) -> None:
        self._text = inspect.cleandoc(text) if text else ""

    def update(self, text: str | None = None) -> None:
        self._text = inspect.cleandoc(text) if text else ""

    @_render_safely
    def render(self) -> str:
        return f'<div class="fc-markdown">{markdown_to_html(self._text)}</div>'


class Table(UserComponent):
    """A table: ``Table([[1, 2], [3, 4]], headers=["a", "b"])``; a cell may be a component."""

    REALTIME_UPDATABLE = True

    def __init__(
        self,
        data: list[list[Any]] | None = None,
        headers: list[str] | None = None,
        disable_updates: bool = False,
    ) -> None:
        self._data = [list(row) for row in data or []]
        self._headers = [str(header) for header in headers or []]
        if disable_updates:
            self.REALTIME_UPDATABLE = False

    @classmethod
    def from_dataframe(cls, dataframe: Any = None, truncate: bool = True) -> Table:
        """A table of a pandas DataFrame (its first 100 rows when ``truncate``)."""
        headers, rows = dataframe_table(dataframe, rows=100 if truncate else None)
        return cls(data=rows, headers=headers)

    def update(self, data: list[list[Any]] | None = None, headers: list[str] | None = None) -> None:
        if data is not None:
            self._data = [list(row) for row in data]
        if headers is not None:
            self._headers = [str(header) for header in headers]

    @_render_safely
    def render(self) -> str:
        head = "".join(f"<th>{html.escape(header)}</th>" for header in self._headers)
        rows = "".join(
            "<tr>" + "".join(f"<td>{_cell(cell)}</td>" for cell in row) + "</tr>" for row in self._data
        )
        thead = f"<thead><tr>{head}</tr></thead>" if head else ""
        return f'<table class="fc-table">{thead}<tbody>{rows}</tbody></table>'


class Image(UserComponent):
    """An image: encoded bytes (PNG, JPEG, GIF, WebP, SVG), a PIL image or a matplotlib figure."""

    REALTIME_UPDATABLE = True

    def __init__(self, src: Any = None, label: str | None = None, disable_updates: bool = True) -> None:
        self._src = src
        self._label = label
        if disable_updates:
            self.REALTIME_UPDATABLE = False

    @classmethod
    def from_pil_image(cls, pilimage: Any, label: str | None = None, disable_updates: bool = False) -> Image:
        return cls(pilimage, label=label, disable_updates=disable_updates)

    @classmethod
    def from_matplotlib(cls, plot: Any, label: str | None = None, disable_updates: bool = False) -> Image:
        # Rendered now: the figure may be changed or closed before the card renders.
        image = image_data(plot)
        return cls(image[0] if image else plot, label=label, disable_updates=disable_updates)

    def update(self, image: Any, label: str | None = None) -> None:
        self._src = image
        if label is not None:
            self._label = label

    @_render_safely
    def render(self) -> str:
        image = image_data(self._src)
        if image is None:
            raise TypeError(
                f"not an image: {type(self._src).__name__} (bytes, a PIL image or a matplotlib figure)"
            )
        caption = f"<figcaption>{html.escape(self._label)}</figcaption>" if self._label else ""
        return f'<figure class="fc-figure">{image_tag(*image, self._label)}{caption}</figure>'


class Artifact(UserComponent):
    """Any Python value, previewed (a DataFrame's head, an array's shape and values, an image...)."""

    REALTIME_UPDATABLE = True

    def __init__(self, artifact: Any, name: str | None = None, compressed: bool = True) -> None:
        self._artifact = artifact
        self._name = name
        self._compressed = compressed

    def update(self, artifact: Any) -> None:
        self._artifact = artifact

    @_render_safely
    def render(self) -> str:
        name = f'<div class="fc-name">{html.escape(self._name)}</div>' if self._name else ""
        return f'<div class="fc-artifact">{name}{preview_html(self._artifact)}</div>'


class VegaChart(UserComponent):
    """A chart from a Vega-Lite spec (a dict) or an Altair chart, drawn by Vega inside the card."""

    REALTIME_UPDATABLE = True

    def __init__(self, spec: Any, show_controls: bool = False) -> None:
        self._spec = spec
        self._show_controls = show_controls

    @classmethod
    def from_altair_chart(cls, altair_chart: Any) -> VegaChart:
        return cls(altair_chart)

    def update(self, spec: Any = None) -> None:
        if spec is not None:
            self._spec = spec

    def _spec_dict(self) -> dict[str, Any]:
        spec = self._spec
        if hasattr(spec, "to_dict") and type(spec).__module__.split(".", 1)[0] == "altair":
            spec = spec.to_dict()
        if not isinstance(spec, dict):
            raise TypeError(f"a Vega-Lite spec is a dict or an Altair chart, not {type(spec).__name__}")
        return spec

    @_render_safely
    def render(self) -> str:
        payload = json.dumps({"spec": self._spec_dict(), "actions": bool(self._show_controls)}, default=str)
        # "</" cannot end the script element early once escaped this way.
        payload = payload.replace("</", "<\\/")
        return (
            '<div class="fc-vega"><div class="fc-vega-target"></div>'
            f'<script type="application/json" class="fc-vega-spec">{payload}</script></div>'
        )


class ProgressBar(UserComponent):
    """A progress bar: ``ProgressBar(max=100, label="epochs")``, then ``bar.update(40)``."""

    REALTIME_UPDATABLE = True

    def __init__(
        self,
        max: int = 100,
        label: str | None = None,
        value: int = 0,
        unit: str | None = None,
        metadata: str | None = None,
    ) -> None:
        self._max, self._label, self._value, self._unit, self._metadata = max, label, value, unit, metadata

    def update(self, new_value: int, metadata: str | None = None) -> None:
        self._value = new_value
        if metadata is not None:
            self._metadata = metadata

    @_render_safely
    def render(self) -> str:
        unit = f" {self._unit}" if self._unit else ""
        label = f"<span>{html.escape(self._label)}</span> " if self._label else ""
        meta = f' <span class="fc-meta">{html.escape(str(self._metadata))}</span>' if self._metadata else ""
        return (
            f'<div class="fc-progress">{label}'
            f'<progress max="{float(self._max)}" value="{float(self._value)}">'
            f"</progress> {html.escape(str(self._value))}/{html.escape(str(self._max))}{html.escape(unit)}"
            f"{meta}</div>"
        )


class ValueBox(UserComponent):
    """A headline number: ``ValueBox(title="Accuracy", value=0.93, subtitle="test set")``."""

    REALTIME_UPDATABLE = True
    VALID_THEMES = frozenset({"default", "success", "warning", "danger", "bg-gradient-indigo-purple"})

    def __init__(
        self,
        title: str | None = None,
        value: str | int | float = "",
        subtitle: str | None = None,
        theme: str | None = None,
        change_indicator: str | None = None,
    ) -> None:
        self._fields: dict[str, Any] = {}
        self.update(title, value, subtitle, theme, change_indicator)

    def update(
        self,
        title: str | None = None,
        value: str | int | float | None = None,
        subtitle: str | None = None,
        theme: str | None = None,
        change_indicator: str | None = None,
    ) -> None:
        if value is not None and not isinstance(value, str | int | float):
            raise TypeError(f"ValueBox value must be a str, int or float, not {type(value).__name__}")
        if theme is not None and theme not in self.VALID_THEMES:
            raise ValueError(f"ValueBox theme must be one of {sorted(self.VALID_THEMES)}, not {theme!r}")
        given = {
            "title": title,
            "value": value,
            "subtitle": subtitle,
            "theme": theme,
            "change": change_indicator,
        }
        self._fields.update({key: item for key, item in given.items() if item is not None})

    @_render_safely
    def render(self) -> str:
        fields = self._fields
        theme = html.escape(fields.get("theme", "default"))
        parts = [f'<div class="fc-valuebox fc-theme-{theme}">']
        if fields.get("title"):
            parts.append(f'<div class="fc-vb-title">{html.escape(str(fields["title"]))}</div>')
        parts.append(f'<div class="fc-vb-value">{html.escape(str(fields.get("value", "")))}</div>')
        if fields.get("subtitle"):
            parts.append(f'<div class="fc-vb-subtitle">{html.escape(str(fields["subtitle"]))}</div>')
        if fields.get("change"):
            parts.append(f'<div class="fc-vb-change">{html.escape(str(fields["change"]))}</div>')
        return "".join(parts) + "</div>"


class PythonCode(UserComponent):
    """Python source: of a function (``code_func``) or a string (``code_string``)."""

    def __init__(self, code_func: Callable[..., Any] | None = None, code_string: str | None = None) -> None:
        self._code = inspect.getsource(code_func) if code_func is not None else code_string

    @_render_safely
    def render(self) -> str:
        if self._code is None:
            raise ValueError("PythonCode needs code_func or code_string")
        return f'<pre class="fc-code"><code class="language-python">{html.escape(self._code)}</code></pre>'


class Error(UserComponent):
    """An exception, with its traceback: ``Error(exc, title="Loading failed")``."""

    def __init__(self, exception: BaseException, title: str | None = None) -> None:
        self._exception = exception
        self._title = title

    @_render_safely
    def render(self) -> str:
        exc = self._exception
        detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        return _error_box(self._title or f"{type(exc).__name__}: {exc}", detail)


class _DataViewer(UserComponent):
    REALTIME_UPDATABLE = True

    def __init__(
        self,
        data: Any,
        collapsible: bool = True,
        max_height: str | None = None,
        show_copy_button: bool = True,
        title: str | None = None,
    ) -> None:
        self._data, self._collapsible, self._max_height, self._title = data, collapsible, max_height, title

    def update(self, data: Any) -> None:
        self._data = data

    def _text(self) -> str:
        raise NotImplementedError

    @_render_safely
    def render(self) -> str:
        style = f' style="max-height:{html.escape(self._max_height)}"' if self._max_height else ""
        body = f"<pre{style}>{html.escape(self._text())}</pre>"
        title = html.escape(self._title or type(self).__name__.replace("Viewer", ""))
        if self._collapsible:
            return f'<details class="fc-viewer" open><summary>{title}</summary>{body}</details>'
        return f'<div class="fc-viewer"><div class="fc-name">{title}</div>{body}</div>'


class JSONViewer(_DataViewer):
    """A value shown as indented JSON (collapsible)."""

    def _text(self) -> str:
        return json.dumps(self._data, indent=2, default=str, ensure_ascii=False)


class YAMLViewer(_DataViewer):
    """A value shown as YAML (collapsible)."""

    def _text(self) -> str:
        import yaml  # only when a card shows YAML

        return yaml.safe_dump(
            json.loads(json.dumps(self._data, default=str)), sort_keys=False, allow_unicode=True
        )


class EventsTimeline(UserComponent):
    """Events as they happen, newest first: ``events.update({"step": "load", "rows": 10})``.

    ``update(event_data, style_theme=None, priority=None, payloads=None, finished=None)`` adds one
    event (a ``timestamp`` is added when missing); ``payloads`` are components shown under it
    (ValueBox, Image, Markdown, Artifact, PythonCode, JSONViewer, YAMLViewer). The last
    ``max_events`` are shown; the count of all is kept.
    """

    REALTIME_UPDATABLE = True
    VALID_THEMES = frozenset(
        {"default", "success", "warning", "error", "info", "primary", "secondary", "tool_call", "ai_response"}
    )

    def __init__(self, title: str | None = None, max_events: int = 100) -> None:
        self._title = title
        self._max_events = max_events
        self._events: list[dict[str, Any]] = []
        self._total = 0
        self._finished = False

    def update(
        self,
        event_data: dict[str, Any],
        style_theme: str | None = None,
        priority: str | None = None,
        payloads: dict[str, Any] | None = None,
        finished: bool | None = None,
    ) -> None:
        import time

        if style_theme is not None and not re.match(r"^[a-zA-Z][a-zA-Z0-9_-]*$", style_theme):
            raise ValueError(f"style_theme {style_theme!r} must be a CSS class name")
        allowed = (ValueBox, Image, Markdown, Artifact, PythonCode, JSONViewer, YAMLViewer)
        for key, payload in (payloads or {}).items():
            if not isinstance(payload, allowed):
                raise TypeError(
                    f"payload {key!r} must be a ValueBox, Image, Markdown, Artifact, PythonCode, "
                    f"JSONViewer or YAMLViewer, not {type(payload).__name__}"
                )
        data = dict(event_data)
        data.setdefault("timestamp", time.time())
        event = {
            "metadata": data,
            "theme": style_theme or "default",
            "priority": priority,
            "payloads": dict(payloads or {}),
        }
        self._events = [*self._events, event][-self._max_events :]
        self._total += 1
        if finished is not None:
            self._finished = finished

    @_render_safely
    def render(self) -> str:
        title = f"<strong>{html.escape(self._title)}</strong> " if self._title else ""
        state = "finished" if self._finished else "running"
        parts = [f'<div class="fc-events"><div class="fc-meta">{title}{self._total} events, {state}</div>']
        for event in reversed(self._events):
            fields = "".join(
                f"<tr><th>{html.escape(str(key))}</th><td>{html.escape(short_repr(value, 300))}</td></tr>"
                if not isinstance(value, str)
                else f"<tr><th>{html.escape(str(key))}</th><td>{html.escape(value)}</td></tr>"
                for key, value in event["metadata"].items()
            )
            payloads = "".join(
                f"<details><summary>{html.escape(str(key))}</summary>{payload.render()}</details>"
                for key, payload in event["payloads"].items()
            )
            theme = html.escape(event["theme"])
            parts.append(
                f'<div class="fc-event fc-theme-{theme}">'
                f'<table class="fc-table">{fields}</table>{payloads}</div>'
            )
        return "".join(parts) + "</div>"
