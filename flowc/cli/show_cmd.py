"""``flowc show FLOW.py [--json | --mermaid]``: the flow's graph as text, IR JSON or a Mermaid diagram."""

from __future__ import annotations

import argparse
import sys

HELP = "show a flow's graph (text outline, --json for the IR, --mermaid for a diagram)"


def add_arguments(parser: argparse.ArgumentParser, argv: list[str]) -> None:
    parser.add_argument("flow", help="the flow file")
    form = parser.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="print the IR as JSON")
    form.add_argument("--mermaid", action="store_true", help="print a Mermaid flowchart")


def run(args: argparse.Namespace) -> int:
    from flowc.frontend import analyse
    from flowc.frontend.render import mermaid, outline

    ir, diagnostics = analyse(args.flow)
    for diagnostic in diagnostics:
        print(diagnostic.format(), file=sys.stderr)
    if ir is None:
        return 1
    if args.json:
        sys.stdout.write(ir.to_json())
    elif args.mermaid:
        sys.stdout.write(mermaid(ir))
    else:
        sys.stdout.write(outline(ir))
    return 0
