"""Rendering the DAG file from ``templates/airflow_dag.py.j2`` (installed as ``flowc.templates``)."""

from __future__ import annotations

from typing import Any

from flowc.backends.airflow.lowering import docstring_text, python_literal

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
    environment.filters["docstring"] = docstring_text
    text = environment.from_string(source).render(**context)
    # Split at "\n" only: str.splitlines() would also split inside a literal holding \x85 or \u2028.
    return "\n".join(line.rstrip(" \t") for line in text.split("\n")).rstrip("\n") + "\n"
