"""``flowc show`` views: the Mermaid diagram stays one statement per line whatever the case keys hold."""

from __future__ import annotations

from pathlib import Path

from flowc.frontend import build_ir
from flowc.frontend.render import mermaid
from tests.frontend.helpers import write_flow

SWITCH_WITH_ODD_KEYS = '''
    class OddKeys(FlowSpec):
        @step
        def start(self):
            self.next(self.body)

        @step
        def body(self):
            self.way = 'say "hi"'
            self.next({'say "hi"': self.end, "two\\nlines": self.body}, condition="way")

        @step
        def end(self):
            pass
    '''


def test_mermaid_labels_never_break_a_statement(tmp_path: Path) -> None:
    ir = build_ir(write_flow(tmp_path, "odd_keys", SWITCH_WITH_ODD_KEYS))
    lines = mermaid(ir).splitlines()
    assert lines[0] == "flowchart TD"
    assert "  step_body -->|\"way = say 'hi'\"| step_end" in lines
    assert '  step_body -.->|"way = two lines"| step_body' in lines  # the loop, dashed
    for line in lines[1:]:
        assert line.startswith("  step_") and line.count('"') % 2 == 0, line
