"""Pathspecs on the command line: ``Flow/run[/step[/task]]``, or without ``Flow/`` when the command
runs as ``python FLOW.py COMMAND`` (Metaflow's form: the flow is the file's).

:func:`flowc.cli.main_for_flow_file` passes the file's flow as ``--flow-name`` to the commands in
:data:`PATHSPEC_COMMANDS`; they read pathspecs through :func:`full_pathspec`.
"""

from __future__ import annotations

import argparse

__all__ = ["PATHSPEC_COMMANDS", "add_flow_name_option", "full_pathspec"]

#: Commands whose pathspec argument may leave out the flow when run as ``python FLOW.py COMMAND``.
PATHSPEC_COMMANDS = frozenset({"card", "dump", "logs", "status", "tag", "terminate"})


def add_flow_name_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--flow-name",
        metavar="FLOW",
        help="the flow of pathspecs that start at the run id (set by `python FLOW.py COMMAND`)",
    )


def full_pathspec(pathspec: str, flow_name: str | None, parts: tuple[int, ...]) -> str:
    """``pathspec`` with ``flow_name/`` in front when it is one part short of an accepted length."""
    pieces = pathspec.strip("/").split("/")
    if flow_name and len(pieces) + 1 in parts and pieces[0] != flow_name:
        return "/".join([flow_name, *pieces])
    return pathspec.strip("/")
