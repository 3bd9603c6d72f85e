"""Limits the targets and the datastore put on a flow's names and text, checked before anything runs.

A name that only an engine or the datastore would refuse (at deploy or at run time, long after
``flowc check`` said yes) is refused here, with the limit that binds and who imposes it:

- Step names are Airflow task ids, and flowc adds up to ``switch-`` and ``-choose`` (14
  characters) around them; Airflow keeps ids in 250-character columns
  (https://airflow.apache.org/docs/apache-airflow/stable/database-erd-ref.html): at most 236.
  Argo, Kubernetes and Step Functions names are shortened with a stable hash (flowc.backends.naming,
  flowc.backends.sfn.naming), so their 63- and 80-character limits never bind.
- Step names are Airflow task ids, which Airflow 3 runs only when they are ASCII (see
  ``_AIRFLOW_KEY``): a step named ``étape`` is refused (``name-not-portable``).
- Step and flow names are folder names in the datastore (``runs/<flow>/<run>/<step>/...``): a
  Linux file name is at most 255 bytes of UTF-8 (NAME_MAX); ``flowc compile --target sfn`` writes
  ``<flow>.asl.json``, so a flow name gets 246. A key of an S3 datastore holds at most 1024 bytes
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html): with these limits a
  key's names take at most ~520, the rest is the datastore's prefix.
- Text of the flow (docstrings, help texts, values of decorators and parameters) is written to
  UTF-8 files and documents; a lone surrogate (``"\\ud800"``) has no UTF-8 form, and YAML none at
  all, so it is refused rather than altered.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping

from flowc.diagnostics import Diagnostic
from flowc.frontend.analysis import Analysis

__all__ = [
    "FLOW_NAME_MAX_BYTES",
    "NAME_MAX_BYTES",
    "STEP_NAME_MAX",
    "check_name_limits",
    "check_text_encodes",
]

#: Airflow's task id column (250) less what flowc adds around a step name (``switch-``, ``-choose``).
STEP_NAME_MAX = 250 - len("switch-") - len("-choose")
#: What an Airflow task id can carry and Airflow 3 can run: its rule (KEY_REGEX in
#: airflow.sdk.definitions._internal.node) is ``[\w.-]``, which refuses some identifier characters
#: (``·``, ``℘``), and its execution API decodes a task id in a URL as Latin-1, so a task whose id
#: is not ASCII fails to start (Airflow 3.3, dag.test: UnicodeDecodeError in a2wsgi).
_AIRFLOW_KEY = re.compile(r"[A-Za-z0-9_.-]+")
#: A Linux file name (NAME_MAX), in bytes of UTF-8: a step's and a flow's folder in the datastore.
NAME_MAX_BYTES = 255
#: A flow name also names the file ``flowc compile --target sfn`` writes: ``<flow>.asl.json``.
FLOW_NAME_MAX_BYTES = NAME_MAX_BYTES - len(".asl.json")


def _too_long(what: str, name: str) -> str | None:
    size = len(name.encode("utf-8", "surrogatepass"))
    if what == "step" and len(name) > STEP_NAME_MAX:
        return (
            f"step name is {len(name)} characters; Airflow task ids hold at most 250, and flowc "
            f"adds up to 14 around a step's name (switch-NAME-choose): at most {STEP_NAME_MAX}"
        )
    limit = NAME_MAX_BYTES if what == "step" else FLOW_NAME_MAX_BYTES
    if size > limit:
        where = (
            "a folder name in the datastore"
            if what == "step"
            else "a folder name in the datastore and, with .asl.json, a compiled file's name"
        )
        return (
            f"{what} name is {size} bytes in UTF-8; it is {where}, and a Linux file name holds "
            f"at most 255 bytes: at most {limit}"
        )
    return None


def check_name_limits(a: Analysis) -> Iterator[Diagnostic]:
    problem = _too_long("flow", a.flow.class_name)
    if problem:
        yield a.refuse("name-too-long", problem, a.flow.line, hint="give the flow a shorter name")
    for step in a.flow.steps:
        problem = _too_long("step", step.name)
        if problem:
            yield a.refuse(
                "name-too-long",
                problem,
                step.line,
                step.name,
                hint="give the step a shorter name",
                file=step.file,
            )
        elif not _AIRFLOW_KEY.fullmatch(step.name):
            odd = "".join(sorted({c for c in step.name if not _AIRFLOW_KEY.fullmatch(c)}))
            yield a.refuse(
                "name-not-portable",
                f"step name holds {odd!r}: a step's name is an Airflow task id, which Airflow 3 runs "
                "only when it is ASCII letters, digits, '_', '.' and '-'",
                step.line,
                step.name,
                file=step.file,
                hint="rename the step with ASCII letters, digits and '_'",
            )


def _unencodable(value: object) -> str | None:
    """The first string in ``value`` (nested containers and dataclasses) that UTF-8 cannot encode."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value
        return None
    if isinstance(value, Mapping):
        items: list[object] = [*value.keys(), *value.values()]
    elif isinstance(value, list | tuple | set | frozenset):
        items = list(value)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        items = [getattr(value, f.name) for f in dataclasses.fields(value)]
    else:
        return None
    for item in items:
        found = _unencodable(item)
        if found is not None:
            return found
    return None


def check_text_encodes(a: Analysis) -> Iterator[Diagnostic]:
    def problem(what: str, text: str, line: int, file: str, step: str | None = None) -> Diagnostic:
        bad = next(c for c in text if 0xD800 <= ord(c) <= 0xDFFF)
        return a.refuse(
            "text-not-encodable",
            f"{what} holds a lone surrogate ({bad!r}), which no UTF-8 file can hold",
            line,
            step,
            hint="remove it, or write the character it stands for",
            file=file,
        )

    if (text := _unencodable(a.flow.docstring)) is not None:
        yield problem("the flow's docstring", text, a.flow.line, a.file)
    if (text := _unencodable(a.flow_settings)) is not None:
        yield problem("a decorator of the flow", text, a.flow.line, a.file)
    for source, spec in a.parameter_specs:
        if (text := _unencodable(spec)) is not None:
            yield problem(f"parameter '{spec.name}'", text, source.line, source.file or a.file)
    for step in a.flow.steps:
        file = step.file or a.file
        if (text := _unencodable(step.docstring)) is not None:
            yield problem("the step's docstring", text, step.line, file, step.name)
        if (text := _unencodable(a.settings.get(step.name))) is not None:
            yield problem("a decorator of the step", text, step.line, file, step.name)
