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
from typing import NoReturn

__all__ = ["COMMANDS", "command_options", "main", "main_for_flow_file"]

#: command -> (module, takes a flow file as its first argument)
COMMANDS: dict[str, tuple[str, bool]] = {
    "check": ("flowc.cli.check_cmd", True),
    "show": ("flowc.cli.show_cmd", True),
    "run": ("flowc.cli.run_cmd", True),
    "resume": ("flowc.cli.resume_cmd", True),
    "runs": ("flowc.cli.runs_cmd", False),
    "status": ("flowc.cli.status_cmd", False),
    "logs": ("flowc.cli.logs_cmd", False),
    "dump": ("flowc.cli.dump_cmd", False),
    "card": ("flowc.cli.card_cmd", False),
    "package": ("flowc.cli.package_cmd", True),
    "env": ("flowc.cli.env_cmd", False),
    "config": ("flowc.cli.config_cmd", False),
    "compile": ("flowc.cli.compile_cmd", True),
    "deploy": ("flowc.cli.deploy_cmd", True),
    "undeploy": ("flowc.cli.undeploy_cmd", True),
    "trigger": ("flowc.cli.trigger_cmd", False),
    "event": ("flowc.cli.event_cmd", False),
    "terminate": ("flowc.cli.terminate_cmd", False),
    "tag": ("flowc.cli.tag_cmd", False),
    "ui": ("flowc.cli.ui_cmd", False),
}


class _HelpFormatter(argparse.HelpFormatter):
    """Counts sub-command names at the indentation they are printed at (Python 3.11's argparse
    counts them two columns short, so a name over 7 letters got a line of its own)."""

    def add_argument(self, action: argparse.Action) -> None:
        super().add_argument(action)
        if action.help is not argparse.SUPPRESS:
            for subaction in self._iter_indented_subactions(action):
                length = len(self._format_action_invocation(subaction)) + self._current_indent
                self._action_max_length = max(self._action_max_length, length)


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors: ``flowc run: error: ... (see flowc run --help)``, exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _parser(command: str | None, argv: list[str]) -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """The top-level parser and the parser of ``command`` (the top-level one when None)."""
    parser = _Parser(
        prog="flowc",
        formatter_class=_HelpFormatter,
        description="Write a flow once; run it locally; compile it for Argo, Step Functions or Airflow. "
        "`python FLOW.py COMMAND ...` is `flowc COMMAND FLOW.py ...`.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen: argparse.ArgumentParser = parser
    for name, (module_name, _) in COMMANDS.items():
        if command is not None and name != command:
            sub.add_parser(name, add_help=False)
            continue
        module = importlib.import_module(module_name)
        command_parser = sub.add_parser(name, help=module.HELP, description=module.HELP)
        # Listing every command (top-level help): no command's options depend on this command line.
        module.add_arguments(command_parser, argv if command is not None else [name])
        command_parser.set_defaults(_run=module.run)
        if name == command:
            chosen = command_parser
    return parser, chosen


def command_options(argv: Sequence[str]) -> frozenset[str]:
    """The ``--options`` the command ``argv[0]`` takes with this command line (its target's too):
    what :mod:`flowc.deployer_api` may pass it."""
    _, command_parser = _parser(argv[0], list(argv))
    return frozenset(option for option in command_parser._option_string_actions if option.startswith("--"))


def main(argv: Sequence[str] | None = None) -> int:
    """Runs one command; returns its exit code (0 success, 1 failure, 2 usage or bad input)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv and argv[0] in COMMANDS else None
    if command is None:
        # Help, or an unknown command: build every sub-parser so --help lists them all. A bare
        # `flowc` prints the help too (exit 0), as `metaflow`'s and `python flow.py`'s do.
        _parser(None, argv)[0].parse_args(argv or ["--help"])
        return 2
    parser, command_parser = _parser(command, argv)
    args, extra = parser.parse_known_args(argv)
    if extra:  # said by the command's parser, whose usage the user needs
        command_parser.error(f"unrecognized arguments: {' '.join(extra)}")
    from flowc.config import ConfigError
    from flowc.datastore.storage import StorageError
    from flowc.ids import InvalidId

    try:
        return int(args._run(args) or 0)
    except InvalidId as exc:  # a malformed pathspec, run id, step name, task id or tag
        print(f"flowc {command}: {exc}", file=sys.stderr)
        return 2
    except ConfigError as exc:  # a bad flowc.toml / [tool.flowc] or FLOWC_* value: the user's to fix
        print(f"flowc {command}: configuration: {exc}", file=sys.stderr)
        return 2
    except StorageError as exc:  # the datastore is unreachable, refuses us, or holds a corrupt object
        from flowc.redact import mask_credentials

        print(f"flowc {command}: datastore: {mask_credentials(str(exc))}", file=sys.stderr)
        return 1


def main_for_flow_file(path: str, argv: Sequence[str], flow_name: str | None = None) -> int:
    """``python flow.py COMMAND ARGS`` -> ``flowc COMMAND flow.py ARGS``.

    Metaflow's top-level ``--quiet`` before COMMAND is accepted: flowc prints no banner to silence.
    So is its top-level ``--with SPEC`` (``python flow.py --with retry run``): it is the command's own
    ``--with`` (run, compile, deploy); and so are ``--config NAME PATH`` and ``--config-value NAME
    VALUE`` (``python flow.py --config cfg cfg.json run``), the command's own.
    """
    argv = list(argv)
    with_options: list[str] = []
    while argv and (argv[0] == "--quiet" or argv[0].startswith(("--with", "--config"))):
        option = argv.pop(0)
        if option == "--with" and argv:
            with_options += [option, argv.pop(0)]
        elif option.startswith("--with="):
            with_options.append(option)
        elif option in ("--config", "--config-value") and len(argv) >= 2:
            with_options += [option, argv.pop(0), argv.pop(0)]
        elif option != "--quiet":
            argv.insert(0, option)  # not an option flowc reads here: let the parser say so
            break
    if not argv or argv[0] not in COMMANDS:
        return main(argv or ["--help"])
    argv[1:1] = with_options
    command = argv[0]
    if COMMANDS[command][1]:
        return main([command, path, *argv[1:]])
    from flowc.cli.pathspecs import PATHSPEC_COMMANDS

    if flow_name and command in PATHSPEC_COMMANDS:
        return main([command, "--flow-name", flow_name, *argv[1:]])
    return main(argv)


def entry_point() -> None:
    """Console script ``flowc``."""
    sys.exit(main())
