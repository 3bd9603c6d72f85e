"""flowc's built-in card types: ``default``, ``blank``, ``error`` and ``taskspec_card``.

The default card shows a finished task: who it is (pathspec, attempt, timings), its place in the
flow's graph (from the IR), its parameters, its artifacts with previews, the components the step
added with ``current.card``, and the end of its logs.
"""

from __future__ import annotations

import html
import json
from datetime import datetime
from typing import Any

from flowc.cards.card import MetaflowCard
from flowc.cards.page import card_page
from flowc.cards.preview import preview_html, short_repr

__all__ = ["BlankCard", "DefaultCard", "ErrorCard", "TaskSpecCard", "components_html"]

#: Artifacts bigger than this (bytes, as stored) are listed without loading them for a preview.
PREVIEW_MAX_BYTES = 32 << 20
#: Artifacts previewed on the default card; the others are listed without a value.
PREVIEW_MAX_ARTIFACTS = 200
#: Lines of each log shown at the end of the default card.
LOG_TAIL_LINES = 40
#: Seconds between reloads of a card rendered while its task runs.
RUNTIME_RELOAD_SECONDS = 5


def components_html(components: list[Any]) -> str:
    """The card's user components, each already rendered (HTML, or JSON from a custom component)."""
    parts = []
    for rendered in components or []:
        if isinstance(rendered, str):
            parts.append(f'<div class="fc-component">{rendered}</div>')
        else:
            parts.append(f"<pre>{html.escape(json.dumps(rendered, indent=1, default=str))}</pre>")
    return "\n".join(parts)


def _section(title: str, body: str) -> str:
    return f"<section><h2>{html.escape(title)}</h2>{body}</section>" if body else ""


def _duration(start: str | None, end: str | None) -> str:
    try:
        seconds = (datetime.fromisoformat(str(end)) - datetime.fromisoformat(str(start))).total_seconds()
    except (TypeError, ValueError):
        return ""
    return f"{seconds:.1f} s"


class _ComponentCard(MetaflowCard):
    ALLOW_USER_COMPONENTS = True
    RUNTIME_UPDATABLE = True
    RELOAD_POLICY = MetaflowCard.RELOAD_POLICY_ONCHANGE
    #: Its page has no script that applies data updates (Metaflow's pages do, in Svelte): the page
    #: reloads its file, so each data update renders the file again (see CardRenderer.runtime).
    RENDER_ON_DATA_UPDATE = True

    def __init__(
        self,
        options: dict[str, Any] | None = None,
        components: Any = None,
        graph: Any = None,
        flow: Any = None,
        **kwargs: Any,
    ) -> None:
        self._options = dict(options or {})
        self._components = list(components or [])
        self._graph = graph

    def _title(self, task: Any) -> str:
        return str(self._options.get("title") or task.pathspec)

    def render_runtime(self, task: Any, data: dict[str, Any]) -> str:
        return self._page(task, runtime=True)

    def render(self, task: Any) -> str:
        return self._page(task, runtime=False)

    def refresh(self, task: Any, data: dict[str, Any]) -> Any:
        return data.get("components")

    def reload_content_token(self, task: Any, data: dict[str, Any]) -> str:
        if getattr(task, "finished", False):
            return "final"
        return f"runtime-{data.get('component_update_ts')}"

    def _page(self, task: Any, runtime: bool) -> str:
        raise NotImplementedError


class BlankCard(_ComponentCard):
    """Only what the step adds with ``current.card`` (``options={"title": ...}`` names the page)."""

    type = "blank"

    def _page(self, task: Any, runtime: bool) -> str:
        return card_page(
            self._title(task),
            components_html(self._components),
            refresh_seconds=RUNTIME_RELOAD_SECONDS if runtime else None,
        )


class DefaultCard(_ComponentCard):
    """The task's parameters, artifacts, place in the graph, timings and logs, then the step's components."""

    type = "default"

    def _page(self, task: Any, runtime: bool) -> str:
        parts = [self._header(task)]
        parts.append(_section("Graph", self._graph_html(task)))
        if not runtime:
            parameters, artifacts = self._artifacts(task)
            parts.append(_section("Parameters", parameters))
            parts.append(_section("Artifacts", artifacts))
        parts.append(_section("Components", components_html(self._components)))
        if not runtime:
            parts.append(_section("Logs", self._logs(task)))
        return card_page(
            self._title(task),
            "\n".join(p for p in parts if p),
            refresh_seconds=RUNTIME_RELOAD_SECONDS if runtime else None,
        )

    def _header(self, task: Any) -> str:
        record = _safe(lambda: task.attempt_record) or {}
        attempt = record.get("attempt", _safe(lambda: task.current_attempt))
        start, end = record.get("start"), record.get("end")
        facts = [f"attempt {attempt}"]
        if start:
            facts.append(f"started {start}")
        if end:
            facts.append(f"ended {end} ({_duration(start, end)})")
        else:
            facts.append("running")
        if record.get("host"):
            facts.append(f"on {record['host']}")
        return (
            f"<h1>{html.escape(self._title(task))}</h1>"
            f'<div class="fc-header">{html.escape(" · ".join(str(f) for f in facts))}</div>'
        )

    def _graph_html(self, task: Any) -> str:
        flow = self._graph
        steps = getattr(flow, "steps", None)
        if not steps:
            return ""
        here = task.pathspec.split("/")[2]
        rows = []
        for step in steps:
            mark = ' class="fc-here"' if step.name == here else ""
            successors = ", ".join(step.successors) or "(end)"
            rows.append(
                f'<tr{mark}><td><span class="fc-step{" fc-here" if mark else ""}">'
                f"{html.escape(step.name)}</span></td><td>{html.escape(step.kind)}</td>"
                f"<td>&rarr; {html.escape(successors)}</td></tr>"
            )
        return (
            '<table class="fc-table fc-graph-table"><thead><tr><th>step</th><th>kind</th>'
            f"<th>next</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        )

    def _artifacts(self, task: Any) -> tuple[str, str]:
        flow = self._graph
        parameter_names = {getattr(p, "attribute", None) or p.name for p in getattr(flow, "parameters", ())}
        parameter_rows, artifact_rows = [], []
        for artifact in _safe(lambda: task.artifacts) or []:
            name = artifact.id
            if name.startswith("_"):
                continue
            size = artifact.size
            if len(parameter_rows) + len(artifact_rows) >= PREVIEW_MAX_ARTIFACTS:
                preview = '<div class="fc-meta">not previewed (too many artifacts)</div>'
            elif size is not None and size > PREVIEW_MAX_BYTES:
                preview = f'<div class="fc-meta">{size} bytes: too large to preview</div>'
            else:
                try:
                    preview = preview_html(artifact.data)
                except Exception as exc:
                    preview = f'<div class="fc-meta">cannot load: {html.escape(short_repr(exc))}</div>'
            row = (
                f"<tr><td>{html.escape(name)}</td><td>{html.escape(str(artifact.type or ''))}</td>"
                f"<td>{'' if size is None else size}</td><td>{preview}</td></tr>"
            )
            (parameter_rows if name in parameter_names else artifact_rows).append(row)
        head = "<thead><tr><th>name</th><th>type</th><th>bytes</th><th>value</th></tr></thead>"

        def table(rows: list[str]) -> str:
            return f'<table class="fc-table">{head}<tbody>{"".join(rows)}</tbody></table>' if rows else ""

        return table(parameter_rows), table(artifact_rows)

    def _logs(self, task: Any) -> str:
        parts = []
        for stream in ("stdout", "stderr"):
            text = _safe(lambda s=stream: task.log(s)) or ""
            if text:
                tail = "\n".join(text.splitlines()[-LOG_TAIL_LINES:])
                parts.append(
                    f'<div class="fc-meta">{stream} (last {LOG_TAIL_LINES} lines)</div>'
                    f"<pre>{html.escape(tail)}</pre>"
                )
        return "".join(parts)


def _safe(read: Any) -> Any:
    try:
        return read()
    except Exception:
        return None


class ErrorCard(MetaflowCard):
    """What is stored in place of a card that failed or timed out (``save_errors=True``)."""

    type = "error"

    def __init__(self, options: dict[str, Any] | None = None, **kwargs: Any) -> None:
        self._options = dict(options or {})

    def render(self, task: Any) -> str:
        card_type = self._options.get("card_type", "?")
        reason = self._options.get("error", "")
        detail = self._options.get("detail", "")
        body = (
            f'<h1>{html.escape(task.pathspec)}</h1><div class="fc-error"><strong>'
            f"The {html.escape(str(card_type))} card could not be rendered: {html.escape(str(reason))}"
            f"</strong><pre>{html.escape(str(detail))}</pre></div>"
        )
        return card_page(f"{task.pathspec} (card failed)", body)


class TaskSpecCard(MetaflowCard):
    """The task's pathspec, as text (Metaflow's ``taskspec_card``)."""

    type = "taskspec_card"

    def render(self, task: Any) -> str:
        return str(task.pathspec)
