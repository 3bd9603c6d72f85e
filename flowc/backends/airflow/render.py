"""Rendering the DAG file from ``templates/airflow_dag.py.j2`` (installed as ``flowc.templates``)."""

from __future__ import annotations

from typing import Any

from flowc.backends.airflow.lowering import python_literal

__all__ = ["TEMPLATE", "render_dag"]

TEMPLATE = "airflow_dag.py.j2"


def render_dag(context: dict[str, Any]) -> str:
    """The DAG file's text for a context from :func:`flowc.backends.airflow.lowering.template_context`."""
    import importlib.resources

    import jinja2

    source = importlib.resources.files("flowc.templates").joinpath(TEMPLATE).read_text(encoding="utf-8")
    environment = jinja2.Environment(
        autoescape=False,  # Python source, not HTML
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    environment.filters["py"] = python_literal
    text = environment.from_string(source).render(**context)
    return "\n".join(line.rstrip() for line in text.splitlines()).rstrip("\n") + "\n"
