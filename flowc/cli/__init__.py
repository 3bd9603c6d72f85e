"""``flowc`` command line: a table of sub-commands, each in its own module, imported on use.

Each command module defines ``HELP`` (one line), ``add_arguments(parser, argv)`` (``argv`` is the
whole command line, for options that depend on other options) and ``run(args) -> int``.
``python flow.py COMMAND ...`` is the same as ``flowc COMMAND flow.py ...`` (see
:func:`main_for_flow_file`).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

__all__ = ["COMMANDS", "main", "main_for_flow_file"]

#: command -> (module, takes a flow file as its first argument)
COMMANDS: dict[str, tuple[str, bool]] = {
    "check": ("flowc.cli.check_cmd", True),
    "show": ("flowc.cli.show_cmd", True),
    "run": ("flowc.cli.run_cmd", True),
    "resume": ("flowc.cli.resume_cmd", True),
    "runs": ("flowc.cli.runs_cmd", False),
    "logs": ("flowc.cli.logs_cmd", False),
    "dump": ("flowc.cli.dump_cmd", False),
    "package": ("flowc.cli.package_cmd", True),
    "config": ("flowc.cli.config_cmd", False),
    "compile": ("flowc.cli.compile_cmd", True),
    "deploy": ("flowc.cli.deploy_cmd", True),
    "trigger": ("flowc.cli.trigger_cmd", False),
}


def _parser(command: str | None, argv: list[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flowc",
        description="Write a flow once; run it locally; compile it for Argo, Step Functions or Airflow.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, _) in COMMANDS.items():
        if command is not None and name != command:
            sub.add_parser(name, add_help=False)
            continue
        module = importlib.import_module(module_name)
        command_parser = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(command_parser, argv)
        command_parser.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs one command; returns its exit code (0 success, 1 failure, 2 usage or bad input)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv and argv[0] in COMMANDS else None
    if command is None:
        # Help, or an unknown command: build every sub-parser so --help lists them all.
        _parser(None, argv).parse_args(argv or ["--help"])
        return 2
    parser = _parser(command, argv)
    args = parser.parse_args(argv)
    from flowc.config import ConfigError
    from flowc.datastore.storage import StorageError

    try:
        return int(args._run(args) or 0)
    except ConfigError as exc:  # a bad flowc.toml / [tool.flowc] or FLOWC_* value: the user's to fix
        print(f"flowc {command}: configuration: {exc}", file=sys.stderr)
        return 2
    except StorageError as exc:  # the datastore is unreachable, refuses us, or holds a corrupt object
        print(f"flowc {command}: datastore: {exc}", file=sys.stderr)
        return 1


def main_for_flow_file(path: str, argv: Sequence[str]) -> int:
    """``python flow.py COMMAND ARGS`` -> ``flowc COMMAND flow.py ARGS``."""
    argv = list(argv)
    if not argv or argv[0] not in COMMANDS:
        return main(argv or ["--help"])
    command = argv[0]
    if COMMANDS[command][1]:
        return main([command, path, *argv[1:]])
    return main(argv)


def entry_point() -> None:
    """Console script ``flowc``."""
    sys.exit(main())
