"""Flow parameters as Airflow DAG params: a JSON schema each, and trigger-time values.

Airflow validates a run's ``conf`` against every param's schema when the run is created, so a
required parameter (no default) is enforced at trigger time, and the DAG's trigger form shows each
one (https://airflow.apache.org/docs/apache-airflow/stable/core-concepts/params.html). The start
task receives the values as a JSON file (``--params-file``), never inside a command string.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flowc.backends.airflow.dag_runtime import RESUME_KEY
from flowc.ir import FlowIR, ParameterSpec
from flowc.parameter_values import OBJECTS_KEY, parse_value

__all__ = ["INLINE_CONF_BYTES", "coerce_parameters", "param_schema", "run_conf"]

#: Parameter values stay this small in a run's conf (the metadata database, the pod's environment:
#: Linux caps one environment string at 128 KiB); larger ones go to the datastore.
INLINE_CONF_BYTES = 64 * 1024

#: flowc parameter type -> JSON schema type of the Airflow param.
_SCHEMA_TYPES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean"}


def param_schema(parameter: ParameterSpec) -> dict[str, Any]:
    """Keyword arguments of ``Param(...)`` for ``parameter`` (``default`` present only if it has one).

    A JSON parameter accepts any JSON value (or the JSON text, which the task runner parses). A
    parameter whose default is computed where the run starts (``deferred_default``) may be null:
    the start task then evaluates the default.
    """
    schema: dict[str, Any] = {}
    json_type = _SCHEMA_TYPES.get(parameter.type)
    if parameter.is_file:
        json_type = "string"
    if json_type is not None:
        schema["type"] = [json_type, "null"] if parameter.deferred_default else json_type
    if parameter.help:
        schema["description"] = parameter.help
    if parameter.has_default:
        schema["default"] = parameter.default
    elif parameter.deferred_default or not parameter.required:
        schema["default"] = None
        if json_type is not None:
            schema["type"] = [json_type, "null"]
    return schema


def coerce_parameters(ir: FlowIR, raw: Mapping[str, str]) -> dict[str, Any]:
    """Typed values for a run's ``conf`` from command-line strings (``--count 7`` -> ``7``).

    An ``IncludeFile`` parameter's value is already the file's content (``flowc trigger`` read it:
    :func:`flowc.parameter_values.trigger_values`).

    Raises:
        ValueError: an unknown parameter or a value that does not parse, naming the parameter.
    """
    known = {p.name: p for p in ir.parameters}
    values: dict[str, Any] = {}
    for name, text in raw.items():
        parameter = known.get(name)
        if parameter is None:
            names = ", ".join(sorted(known)) or "none"
            raise ValueError(f"unknown parameter {name!r}; the flow has: {names}")
        values[name] = _coerce(parameter, text)
    return values


def _coerce(parameter: ParameterSpec, text: str) -> Any:
    """Typed as the DAG's param schema wants it, parsed by the start task's own rules
    (:func:`flowc.parameter_values.parse_value`); text and JSON stay text (their params accept any value)."""
    if parameter.is_file or parameter.type in ("str", "json"):
        return text
    return parse_value(parameter, text)  # a ParameterError is a ValueError naming the parameter


def run_conf(
    values: Mapping[str, Any], datastore: str | None, tags: Sequence[str] = (), resume: str | None = None
) -> dict[str, Any]:
    """A run's ``conf`` for typed ``values``, large ones stored in ``datastore``; ``resume``
    (``ORIGIN_RUN_ID[/STEP]``, flowc resume) under ``$resume``, which the DAG's runtime gives the
    start task as FLOWC_RESUME (flowc.backends.airflow.dag_runtime.RESUME_KEY).

    A stored value's own key stays, empty (a required param must be given; only text and JSON
    parameters can be large, and both accept ``""``), and ``$objects`` maps it to its hash; the
    DAG's ``flowc_parameter_values`` hands that to the start task (flowc.backends.large_parameters).
    """
    from flowc.backends.large_parameters import store_large_values, store_run_tags

    inline, stored = store_large_values(values, datastore, INLINE_CONF_BYTES)
    stored |= store_run_tags(tags, datastore)  # the run's tags (flowc trigger --tag)
    conf = {**inline, RESUME_KEY: resume} if resume else dict(inline)
    if not stored:
        return conf
    return {**conf, **{name: "" for name in stored}, OBJECTS_KEY: stored}
