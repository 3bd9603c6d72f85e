"""What ``flowc compile``, ``deploy`` and ``trigger`` share: the target, its options and settings."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from flowc.backends import TARGETS, load_backend
from flowc.backends.base import Backend
from flowc.config import Settings, load_settings

if TYPE_CHECKING:
    from flowc.ir import FlowIR

__all__ = [
    "add_target_arguments",
    "add_with_argument",
    "backend_and_settings",
    "flow_ir",
    "ir_with_decorators",
    "target_from_argv",
]


def target_from_argv(argv: list[str]) -> str | None:
    """The ``--target`` given on the command line, read before the full parser exists."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--target")
    known, _ = pre.parse_known_args(argv)
    return known.target


def add_with_argument(parser: argparse.ArgumentParser) -> None:
    """``--with NAME[:KEY=VALUE,...]`` (Metaflow's): a decorator added to every step lacking it."""
    parser.add_argument(
        "--with",
        dest="with_decorators",
        action="append",
        default=[],
        metavar="DECORATOR[:ARGS]",
        help="add a step decorator to every step that has none of its own (repeatable), e.g. "
        "--with retry:times=3 --with catch --with timeout:minutes=10",
    )


def flow_ir(args: argparse.Namespace, command: str) -> tuple[FlowIR | None, int]:
    """The IR of ``args.flow`` with ``--with`` applied, or (None, exit code) after printing why not:
    the flow does not compile (its diagnostics, 1), a bad ``--with`` (one line, 2)."""
    from flowc.diagnostics import CompileError
    from flowc.frontend import build_ir
    from flowc.frontend.configs import inputs_from_args

    try:
        ir = build_ir(args.flow, configs=inputs_from_args(args))
    except CompileError as exc:
        print(exc, file=sys.stderr)
        return None, 1
    with_decorators = ir_with_decorators(args, ir, command)
    return with_decorators, 0 if with_decorators is not None else 2


def ir_with_decorators(args: argparse.Namespace, ir: FlowIR, command: str) -> FlowIR | None:
    """``ir`` with ``--with`` applied, or None after printing why it cannot be (one line)."""
    from flowc.frontend.decospecs import DecospecError, apply_decospecs

    try:
        return apply_decospecs(
            ir, getattr(args, "with_decorators", []), local_run=command in ("run", "resume")
        )
    except DecospecError as exc:
        print(f"flowc {command}: {exc}", file=sys.stderr)
        return None


def add_target_arguments(command: str, parser: argparse.ArgumentParser, argv: list[str]) -> None:
    parser.add_argument("--target", required=True, choices=sorted(TARGETS), help="the orchestrator")
    parser.add_argument("--datastore", help="datastore root the tasks use (s3://bucket/prefix or a path)")
    parser.add_argument("--image", help="default container image")
    parser.add_argument("--branch", help="@project branch (default: the user's branch)")
    parser.add_argument("--production", action="store_true", default=None, help="@project production branch")
    if command in ("compile", "deploy"):
        from flowc.frontend.configs import add_config_arguments

        add_with_argument(parser)
        add_config_arguments(parser)
        _add_deploy_settings(parser)
        parser.add_argument(
            "--bootstrap",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="start tasks through flowc's bootstrap, so images need only Python (default: setting "
            "bootstrap, on); --no-bootstrap: the image has flowc installed",
        )
        for event, when in (("error", "fails"), ("success", "succeeds")):
            parser.add_argument(
                f"--notify-on-{event}",
                action="store_true",
                help=f"notify when a run {when}: the end-of-run task posts to notify.slack_webhook_url / "
                "notify.webhook_url, read from its environment when the run ends (never compiled in)",
            )
    if command in ("deploy", "trigger"):
        from flowc.ids import argument, check_tag

        what = "every run of the deployment" if command == "deploy" else "this run"
        parser.add_argument(
            "--tag",
            action="append",
            type=argument(check_tag),
            metavar="TAG",
            help=f"a tag of {what} (repeatable), as flowc run --tag gives",
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


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _add_deploy_settings(parser: argparse.ArgumentParser) -> None:
    """The settings of a deployment every target renders (docs/targets.md, "Deploy settings")."""
    parser.add_argument(
        "--max-workers",
        type=_positive_int,
        metavar="N",
        help="tasks of a run running at once (Argo: the workflow's parallelism; Step Functions: each "
        "foreach's Map MaxConcurrency; Airflow: the DAG's max_active_tasks); default: no limit",
    )
    parser.add_argument(
        "--workflow-timeout",
        type=_positive_int,
        metavar="SECONDS",
        help="a run taking longer is stopped by the engine (default: no limit)",
    )
    parser.add_argument(
        "--schedule-paused",
        action="store_true",
        help="an @schedule deploy creates starts paused (a schedule that exists keeps its state)",
    )


def backend_and_settings(args: argparse.Namespace) -> tuple[Backend, Settings]:
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
    return backend, settings
