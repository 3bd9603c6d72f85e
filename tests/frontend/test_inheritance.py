"""Flows that inherit steps, helpers, parameters and constants from classes in other local modules."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from flowc.frontend import analyse, build_ir
from flowc.frontend.render import outline
from flowc.ir import FlowIR, Location

TEMPLATE = """
    from flowc import FlowSpec, Parameter, retry, step


    class TemplateFlow(FlowSpec):
        '''start -> process -> end; a subclass overrides process.'''

        size = Parameter("size", default=3)
        LIMIT = 10

        @retry(times=1)
        @step
        def start(self):
            self.items = list(range(self.size))
            self.next(self.process)

        @step
        def process(self):
            self.result = None
            self.next(self.end)

        @step
        def end(self):
            print(self.result, self.loaded, self.LIMIT)
    """

MIXINS = """
    try:
        from metaflow import FlowSpec  # noqa: F401
    except ImportError:
        from flowc import FlowSpec  # noqa: F401


    class Loader:
        def load(self):
            self.loaded = True
    """

CHILD = """
    import mixins
    from flowc import resources, step
    from lib.template import TemplateFlow


    class MyFlow(TemplateFlow, mixins.Loader):
        @resources(memory=1024)
        @step
        def process(self):
            self.load()
            self.result = sum(self.items)
            self.next(self.end)


    if __name__ == "__main__":
        MyFlow()
    """


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


def test_a_flow_built_on_a_base_flow_and_a_mixin_from_local_modules(tmp_path: Path) -> None:
    _write(tmp_path, {"lib/__init__.py": "", "lib/template.py": TEMPLATE, "mixins.py": MIXINS,
                      "my_flow.py": CHILD})
    ir = build_ir(tmp_path / "my_flow.py", strict=True)
    assert ir.name == "MyFlow" and ir.source_file == "my_flow.py"
    assert ir.step_names == ("start", "process", "end")  # the base's order; the override in place
    assert ir.step("start").location == Location("lib/template.py", 12)
    assert ir.step("start").retry is not None and ir.step("start").retry.times == 1
    process = ir.step("process")
    assert process.location == Location("my_flow.py", 9)
    assert process.resources.memory_mb == 1024
    assert process.assigns == ("loaded", "result")  # `loaded` through the mixin's helper
    assert [p.name for p in ir.parameters] == ["size"]
    assert ir.parameters[0].location == Location("lib/template.py", 7)
    assert ir.class_attributes == ("LIMIT",)
    assert FlowIR.from_json(ir.to_json()) == ir
    assert "(lib/template.py:12)" in outline(ir) and "(line 9)" in outline(ir)


def test_a_problem_in_an_inherited_step_names_the_base_file(tmp_path: Path) -> None:
    _write(tmp_path, {"lib/__init__.py": "", "lib/template.py": TEMPLATE, "mixins.py": MIXINS,
                      "my_flow.py": CHILD.replace("    import mixins\n", "").replace(", mixins.Loader", "")
                      .replace("self.load()", "pass")})
    ir, diagnostics = analyse(tmp_path / "my_flow.py")
    assert ir is None
    assert [(d.code, d.file, d.line, d.step) for d in diagnostics] == [
        ("read-unassigned", "lib/template.py", 23, "end")
    ]
    assert diagnostics[0].format().startswith("lib/template.py:23: step 'end': reads self.loaded")


def test_a_relative_import_inside_a_package(tmp_path: Path) -> None:
    _write(tmp_path, {
        "flows/__init__.py": "",
        "flows/base.py": TEMPLATE.replace("self.loaded, ", ""),
        "flows/child_flow.py": """
            from flowc import step
            from .base import TemplateFlow


            class ChildFlow(TemplateFlow):
                @step
                def process(self):
                    self.result = 1
                    self.next(self.end)
            """,
    })
    ir = build_ir(tmp_path / "flows" / "child_flow.py", strict=True)
    assert ir.step("end").location == Location("base.py", 22)


def test_a_base_from_an_installed_package_makes_unknown_reads_warnings(tmp_path: Path) -> None:
    _write(tmp_path, {"opaque_flow.py": """
        from company_flows import CompanyFlow
        from flowc import step


        class OpaqueFlow(CompanyFlow):
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                print(self.company_setting)
        """})
    ir, diagnostics = analyse(tmp_path / "opaque_flow.py")
    assert ir is not None
    assert [(d.code, d.severity, d.line, d.step) for d in diagnostics] == [
        ("read-maybe-unassigned", "warning", 12, "end")
    ]
    assert "could not read the base class(es) CompanyFlow" in diagnostics[0].message


def test_a_class_whose_unreadable_base_holds_every_step_is_named_in_the_hint(tmp_path: Path) -> None:
    _write(tmp_path, {"thin_flow.py": """
        from company_flows import CompanyFlow


        class ThinFlow(CompanyFlow):
            EXTRA = 1
        """})
    _, diagnostics = analyse(tmp_path / "thin_flow.py")
    assert [d.code for d in diagnostics] == ["no-flow"]
    assert "ThinFlow(CompanyFlow)" in (diagnostics[0].hint or "")


def test_a_base_module_with_a_syntax_error_is_reported_with_its_line(tmp_path: Path) -> None:
    _write(tmp_path, {"lib/__init__.py": "", "lib/template.py": TEMPLATE, "mixins.py": MIXINS,
                      "my_flow.py": CHILD})
    with (tmp_path / "lib" / "template.py").open("a", encoding="utf-8") as template:
        template.write("\ndef broken(:\n")
    _, diagnostics = analyse(tmp_path / "my_flow.py")
    assert (diagnostics[0].code, diagnostics[0].file, diagnostics[0].line) == (
        "syntax-error", "lib/template.py", 25
    )


@pytest.mark.parametrize(
    ("imports", "base"),
    [
        ("from lib.template import TemplateFlow", "TemplateFlow"),
        ("from lib.template import TemplateFlow as Base", "Base"),
        ("from lib import template", "template.TemplateFlow"),
        ("import lib.template", "lib.template.TemplateFlow"),
        ("import lib.template as t", "t.TemplateFlow"),
        ("from lib.reexport import TemplateFlow", "TemplateFlow"),  # re-exported by another module
    ],
)
def test_every_way_of_importing_the_base(imports: str, base: str, tmp_path: Path) -> None:
    _write(tmp_path, {
        "lib/__init__.py": "",
        "lib/template.py": TEMPLATE.replace("self.loaded, ", ""),
        "lib/reexport.py": "from lib.template import TemplateFlow  # noqa: F401\n",
        "the_flow.py": f"""
            {imports}


            class TheFlow({base}):
                pass
            """,
    })
    ir = build_ir(tmp_path / "the_flow.py", strict=True)
    assert ir.name == "TheFlow" and ir.step_names == ("start", "process", "end")
