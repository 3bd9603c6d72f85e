"""What ``flowc compile``, ``deploy`` and ``trigger`` share: the target, its options and settings."""

from __future__ import annotations

import argparse
from typing import Any

from flowc.backends import TARGETS, load_backend
from flowc.backends.base import Backend
from flowc.config import Settings, load_settings

__all__ = ["add_target_arguments", "backend_and_settings", "target_from_argv"]


def target_from_argv(argv: list[str]) -> str | None:
    """The ``--target`` given on the command line, read before the full parser exists."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--target")
    known, _ = pre.parse_known_args(argv)
    return known.target


def add_target_arguments(command: str, parser: argparse.ArgumentParser, argv: list[str]) -> None:
    parser.add_argument("--target", required=True, choices=sorted(TARGETS), help="the orchestrator")
    parser.add_argument("--datastore", help="datastore root the tasks use (s3://bucket/prefix or a path)")
    parser.add_argument("--image", help="default container image")
    parser.add_argument("--branch", help="@project branch (default: the user's branch)")
    parser.add_argument("--production", action="store_true", default=None, help="@project production branch")
    if command in ("compile", "deploy"):
        parser.add_argument(
            "--bootstrap",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="start tasks through flowc's bootstrap, so images need only Python (default: setting "
            "bootstrap, on); --no-bootstrap: the image has flowc installed",
        )
    if command == "compile":
        parser.add_argument(
            "--package-sha",
            metavar="SHA",
            help="run tasks from this code package (flowc package FLOW.py prints it; deploy sets it)",
        )
    target = target_from_argv(argv)
    if target in TARGETS:
        load_backend(target).add_arguments(command, parser)


def backend_and_settings(args: argparse.Namespace) -> tuple[Backend, Settings, dict[str, Any]]:
    backend = load_backend(args.target)
    settings = load_settings(
        {
            "datastore": args.datastore,
            "image": args.image,
            "project.branch": args.branch,
            "project.production": args.production,
            "bootstrap": getattr(args, "bootstrap", None),
        }
    )
    return backend, settings, vars(args)
