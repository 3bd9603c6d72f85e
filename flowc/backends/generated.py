"""Every generated file parses before anyone sees it: ``flowc compile`` and ``deploy`` never write
a DAG file, YAML or JSON document that its reader would refuse.

Text of the flow reaches a generated file only through an escaping writer (Python literals:
:func:`flowc.backends.airflow.lowering.python_literal`; YAML: :mod:`flowc.backends.argo.yamltext`;
JSON: :func:`json.dumps`). This is the second line: each file is parsed as its reader parses it
(Python ``compile``, a YAML load, a JSON load) and encoded as UTF-8 the way it is written, and a
failure is reported as what it is, a bug of flowc, never as a file written for the engine to refuse.
Where it is cheap, a target also checks its document against the engine's own rules before it is
written (:func:`check_document`): Argo's semantic lint (:func:`flowc.backends.argo.lint.semantic_problems`),
Step Functions' graph rules (:mod:`flowc.backends.sfn.validate`).
"""

from __future__ import annotations

import json

from flowc.diagnostics import CompileError, refuse

__all__ = ["GeneratedFileError", "check_document", "check_generated"]


class GeneratedFileError(CompileError):
    """A generated file does not parse (or encode): a bug of flowc, not of the flow."""


def _problem(name: str, text: str) -> str | None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"holds text UTF-8 cannot encode ({exc.reason} at offset {exc.start})"
    try:
        if name.endswith(".py"):
            compile(text, name, "exec", dont_inherit=True)
        elif name.endswith((".yaml", ".yml")):
            import yaml

            loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
            list(yaml.load_all(text, Loader=loader))
        elif name.endswith(".json"):
            json.loads(text)
    except SyntaxError as exc:
        return f"is not valid Python (line {exc.lineno}: {exc.msg})"
    except ValueError as exc:  # json.JSONDecodeError; Python's "source code cannot contain null bytes"
        return f"does not parse ({exc})"
    except Exception as exc:
        return f"does not parse ({type(exc).__name__}: {' '.join(str(exc).split())})"
    return None


def check_generated(name: str, text: str) -> None:
    """Raises :class:`GeneratedFileError` unless ``text`` parses as the file ``name`` says it is."""
    problem = _problem(name, text)
    if problem is not None:
        raise GeneratedFileError(
            [
                refuse(
                    "generated-file-invalid",
                    f"the generated file {problem}: this is a flowc bug",
                    file=name,
                    hint="please report it with the flow; nothing was written",
                )
            ]
        )


def check_document(name: str, problems: list[str]) -> None:
    """Raises :class:`GeneratedFileError` when a target's check of the document ``name`` against
    the engine's rules found ``problems`` (a bug of flowc: the flow was accepted)."""
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise GeneratedFileError(
            [
                refuse(
                    "generated-document-invalid",
                    f"the generated document breaks the engine's rules: {problems[0]}{more}; "
                    "this is a flowc bug",
                    file=name,
                    hint="please report it with the flow; nothing was written",
                )
            ]
        )
