"""``flowc compile FLOW.py --target argo|sfn|airflow [-o FILE|DIR]``: no cluster, credentials or network."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from flowc.backends.base import CompiledFile
from flowc.cli.target_options import add_target_arguments, backend_and_settings, flow_ir
from flowc.diagnostics import CompileError

HELP = "compile a flow for an orchestrator (deterministic; needs no cluster or credentials)"


def add_arguments(parser: argparse.ArgumentParser, argv: list[str]) -> None:
    parser.add_argument("flow", help="the flow file")
    parser.add_argument(
        "-o",
        "--output",
        help="output file (several YAML documents go into it as one multi-document stream), or a "
        "directory, existing or ending in /, for one file per document",
    )
    add_target_arguments("compile", parser, argv)


def run(args: argparse.Namespace) -> int:
    from flowc.backends.options import compile_options

    backend, settings = backend_and_settings(args)
    ir, code = flow_ir(args, "compile")
    if ir is None:
        return code
    try:
        files = backend.compile(ir, settings, compile_options(vars(args)))
    except CompileError as exc:
        print(exc, file=sys.stderr)
        return 1
    if args.output is None:
        if len(files) == 1 or _all_yaml(files):
            sys.stdout.write(_one_text(files))
            return 0
        names = ", ".join(f.name for f in files)
        print(f"flowc compile: this target writes several documents ({names}); give -o DIR/", file=sys.stderr)
        return 2
    try:
        return _write_output(args.output, files)
    except OSError as exc:  # an unwritable or impossible path: the user's to fix, in one line
        where = exc.filename or args.output
        print(f"flowc compile: cannot write {where}: {exc.strerror or exc}", file=sys.stderr)
        return 1


def _write_output(output_arg: str, files: list[CompiledFile]) -> int:
    """Writes the documents to ``-o``'s file or directory; returns the exit code."""
    output = Path(output_arg)
    if output.is_dir() or output_arg.endswith(("/", "\\")):
        output.mkdir(parents=True, exist_ok=True)
        for compiled in files:
            _write(output / compiled.name, compiled.text)
        return 0
    if len(files) > 1 and not _all_yaml(files):
        names = ", ".join(f.name for f in files)
        print(
            f"flowc compile: this target writes several documents ({names}), which one file cannot hold; "
            f"give a directory: -o {output_arg}/",
            file=sys.stderr,
        )
        return 2
    output.parent.mkdir(parents=True, exist_ok=True)
    _write(output, _one_text(files))
    return 0


def _all_yaml(files: list[CompiledFile]) -> bool:
    return all(f.name.endswith((".yaml", ".yml")) for f in files)


def _one_text(files: list[CompiledFile]) -> str:
    """One document as it is; several YAML documents as one multi-document stream (``---`` between
    them), which is what ``kubectl apply -f`` and ``argo submit`` take."""
    if len(files) == 1:
        return files[0].text
    return "---\n".join(f.text if f.text.endswith("\n") else f.text + "\n" for f in files)


def _write(path: Path, text: str) -> None:
    """Writes ``path`` whole or not at all: a failed write leaves no half-written document."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
    except OSError:
        partial.unlink(missing_ok=True)
        raise
