"""``flowc compile FLOW.py --target argo|sfn|airflow [-o FILE|DIR]``: no cluster, credentials or network."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from flowc.cli.target_options import add_target_arguments, backend_and_settings
from flowc.frontend.diagnostics import CompileError

HELP = "compile a flow for an orchestrator (deterministic; needs no cluster or credentials)"


def add_arguments(parser: argparse.ArgumentParser, argv: list[str]) -> None:
    parser.add_argument("flow", help="the flow file")
    parser.add_argument(
        "-o", "--output", help="output file, or a directory (existing, or ending in /) for the documents"
    )
    add_target_arguments("compile", parser, argv)


def run(args: argparse.Namespace) -> int:
    from flowc.frontend import build_ir

    backend, settings, options = backend_and_settings(args)
    try:
        ir = build_ir(args.flow)
        files = backend.compile(ir, settings, options)
    except CompileError as exc:
        print(exc, file=sys.stderr)
        return 1
    if args.output is None:
        if len(files) != 1:
            names = ", ".join(f.name for f in files)
            print(f"flowc: this target writes several documents ({names}); give -o DIR", file=sys.stderr)
            return 2
        sys.stdout.write(files[0].text)
        return 0
    output = Path(args.output)
    names_a_directory = output.is_dir() or args.output.endswith(("/", "\\"))
    if len(files) == 1 and not names_a_directory:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(files[0].text, encoding="utf-8")
        return 0
    output.mkdir(parents=True, exist_ok=True)
    for compiled in files:
        (output / compiled.name).write_text(compiled.text, encoding="utf-8")
    return 0
