"""Generated files are valid for any text a flow carries (issue 19 item 9).

Hostile text (triple quotes, backslash escapes, Jinja and Argo template markers, NUL, lone
surrogates, Unicode line breaks) in a flow's docstring, a step's docstring, a parameter's help and
default, an ``@environment`` value and an ``@project`` name (a DAG tag), with any step name the
front end allows: every target's compiled file parses, and the text reads back
from it unchanged (a lone surrogate, which no UTF-8 file holds, is refused by the front end).
"""

from __future__ import annotations

import ast
import json
import keyword
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowc.backends.airflow import compile_dag
from flowc.backends.argo.backend import compile_flow as compile_argo
from flowc.backends.base import CompiledFile, GeneratedFileError
from flowc.backends.options import CompileOptions
from flowc.backends.sfn import BACKEND as SFN
from flowc.config import load_settings
from flowc.diagnostics import CompileError
from flowc.frontend import build_ir
from flowc.frontend.checks import RESERVED_STEP_NAMES

SETTINGS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

FRAGMENTS = [
    '"""', "'''", '"', "'", "\\", "\\U", "\\N{", "\\x", "\n", "\r", "\r\n", "\t", "\x00", "\x0c", "\x1b",
    "\x85", "\u2028", "\u2029", "\ud800", "\udfff", "\ufeff", "{{", "}}", "{%", "{#", "{{=", "$(", "${",
    "#", ": ", "- ", "|", ">", "&a", "*a", "!!python/object", "---", "...", "%", "@", "`", "é", "🦄",
    "\U0010ffff",
]  # fmt: skip
HOSTILE = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=4)), max_size=8).map("".join)


def _flow_source(
    doc: str,
    step_doc: str,
    help_text: str,
    default: str,
    env_value: str,
    project: str = "demo",
    step: str = "middle",
) -> str:
    """A flow file carrying the texts as string literals (``repr``: any text is a valid literal)."""
    return "\n".join(
        [
            "from flowc import FlowSpec, Parameter, environment, project, step",
            "",
            "",
            f"@project(name={project!r})",
            "class HostileFlow(FlowSpec):",
            f"    {doc!r}",
            "",
            f"    alpha = Parameter('alpha', help={help_text!r}, default={default!r})",
            "",
            f"    @environment(vars={{'HOSTILE': {env_value!r}}})",
            "    @step",
            "    def start(self):",
            f"        {step_doc!r}",
            f"        self.next(self.{step})",
            "",
            "    @step",
            f"    def {step}(self):",
            "        self.next(self.end)",
            "",
            "    @step",
            "    def end(self):",
            "        pass",
            "",
        ]
    )


def _strings(value: Any) -> set[str]:
    """Every string (keys and values) of a JSON-like document."""
    if isinstance(value, dict):
        return {s for k, v in value.items() for s in (_strings(k) | _strings(v))}
    if isinstance(value, list):
        return {s for v in value for s in _strings(v)}
    return {value} if isinstance(value, str) else set()


def _python_strings(text: str) -> set[str]:
    return {
        n.value for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    }


#: Step names the front end allows (ASCII identifiers, at most 236 characters), not "start"/"end".
STEP_NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,235}", fullmatch=True).filter(
    lambda name: not keyword.iskeyword(name) and name not in RESERVED_STEP_NAMES | {"start", "end"}
)


@SETTINGS
@given(
    doc=HOSTILE,
    step_doc=HOSTILE,
    help_text=HOSTILE,
    default=HOSTILE,
    env_value=HOSTILE,
    project=HOSTILE.filter(bool),
    step=STEP_NAMES,
)
def test_every_target_writes_valid_files_for_hostile_text(
    tmp_path_factory: pytest.TempPathFactory,
    doc: str,
    step_doc: str,
    help_text: str,
    default: str,
    env_value: str,
    project: str,
    step: str,
) -> None:
    folder = tmp_path_factory.mktemp("hostile")
    flow = folder / "hostile_flow.py"
    flow.write_text(
        _flow_source(doc, step_doc, help_text, default, env_value, project, step), encoding="utf-8"
    )
    texts = (doc, step_doc, help_text, default, env_value, project)
    if any(0xD800 <= ord(c) <= 0xDFFF for text in texts for c in text):
        # No UTF-8 file (and no YAML document) can hold a lone surrogate: refused, never altered.
        with pytest.raises(CompileError, match="text-not-encodable"):
            build_ir(str(flow))
        return
    ir = build_ir(str(flow))
    settings_ = load_settings({"datastore": "s3://bucket/root"}, start=Path("/"), environ={})

    for operator in ("local", "kubernetes"):
        package = "c0de" * 16 if operator == "kubernetes" else None
        compiled = compile_dag(ir, settings_, CompileOptions(operator=operator, package_sha=package))
        _write_and_read(folder, compiled)
        strings = _python_strings(compiled.text)
        assert default in strings
        if help_text:
            assert any(help_text in s for s in strings)
        # The IR keeps the docstring as Python reads it (inspect.cleandoc: tabs expanded, indent removed).
        summary = (ir.docstring or "").strip()
        first_line = summary.splitlines()[0].strip() if summary else None
        if first_line:
            assert first_line in strings  # the DAG's description
            assert first_line in ast.get_docstring(ast.parse(compiled.text), clean=False)
        if operator == "kubernetes":
            # Written as Kubernetes reads an env value: it expands $(NAME) and reads $$ as $.
            assert env_value.replace("$", "$$") in strings
        assert f"project:{project}" in strings  # a DAG tag

    for compiled in compile_argo(ir, settings_, CompileOptions()):
        _write_and_read(folder, compiled)
        documents = [d for d in yaml.safe_load_all(compiled.text) if d]
        assert documents
        assert default in _strings(documents)

    (compiled,) = SFN.compile(ir, settings_, CompileOptions())
    _write_and_read(folder, compiled)
    json.loads(compiled.text)


def _write_and_read(folder: Path, compiled: CompiledFile) -> None:
    """Written as ``flowc compile`` writes it (UTF-8), the file reads back as the same text."""
    path = folder / compiled.name
    path.write_text(compiled.text, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == compiled.text


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("dag.py", 'x = """unclosed\n'),
        ("doc.yaml", "a: [unclosed\n"),
        ("doc.json", '{"a": }\n'),
        ("dag.py", 'x = "\ud800"\n'),
    ],
)
def test_a_generated_file_that_does_not_parse_is_a_compiler_bug(name: str, text: str) -> None:
    with pytest.raises(GeneratedFileError, match="flowc bug"):
        CompiledFile(name, text)


def test_compile_writes_a_valid_dag_file_for_a_docstring_with_triple_quotes(tmp_path: Path) -> None:
    from flowc.cli import main

    flow = tmp_path / "doc_flow.py"
    doc = 'Hostile """ docstring with \\U and a backslash \\'
    flow.write_text(_flow_source(doc, doc, doc, doc, doc), encoding="utf-8")
    assert main(["compile", str(flow), "--target", "airflow", "-o", f"{tmp_path}/dags/"]) == 0
    (dag,) = (tmp_path / "dags").glob("*.py")
    tree = ast.parse(dag.read_text(encoding="utf-8"))
    assert doc in ast.get_docstring(tree, clean=False)
