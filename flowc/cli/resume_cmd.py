"""``flowc resume FLOW.py [--origin-run-id ID] [STEP]``: continue a failed run in a new run.

Every successful task before the failed step (or before STEP, when given) is cloned from the origin
run, never recomputed; the rest runs. ``current.origin_run_id`` is the origin run's id. As in
Metaflow, the new run takes the origin run's config values (recorded in its run record), not the
config files or defaults as they are now.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from flowc.cli.target_options import add_with_argument, ir_with_decorators
from flowc.ids import argument, check_run_id, check_step_name
from flowc.ir import FlowIR
from flowc.runtime.cli_common import (
    add_common_options,
    checked_ir,
    datastore_url,
    load_ir_for_parser,
    options_from_args,
    with_local_secrets,
)

HELP = "continue a failed run: clone its successful tasks, run the rest"


#: Options of this command that take a value (to tell their values from the STEP word).
_VALUE_OPTIONS = frozenset(
    {
        "--max-workers",
        "--tag",
        "--run-id-file",
        "--datastore",
        "--max-num-splits",
        "--executor",
        "--origin-run-id",
        # --target and the trigger options of the targets (flowc resume --target T)
        "--target",
        "--namespace",
        "--name",
        "--api-url",
        "--dag-id",
    }
)


def _step_after_flow(argv: list[str]) -> None:
    """Moves a STEP given after options (``resume FLOW --opt V STEP``) next to FLOW, in place.

    argparse fills every positional from the first run of positional words, so an optional STEP
    written after options would otherwise be "unrecognized".
    """
    positions, i = [], 1
    while i < len(argv):
        word = argv[i]
        if word.startswith("-"):
            i += 2 if word in _VALUE_OPTIONS else 1
            continue
        positions.append(i)
        i += 1
    if len(positions) == 2 and positions[1] != positions[0] + 1:
        argv.insert(positions[0] + 1, argv.pop(positions[1]))


def add_arguments(parser: argparse.ArgumentParser, argv: list[str]) -> None:
    _step_after_flow(argv)
    add_common_options(parser)
    parser.add_argument(
        "step",
        nargs="?",
        type=argument(check_step_name),
        help="re-run from this step (default: from the failed tasks)",
    )
    parser.add_argument(
        "--origin-run-id",
        type=argument(check_run_id),
        metavar="ID",
        help="the run to continue (default: your latest run)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="resume a run that may still be running (only tasks whose inputs are all cloned are cloned)",
    )
    add_with_argument(parser)
    from flowc.backends import TARGETS, load_backend
    from flowc.cli.target_options import target_from_argv

    parser.add_argument(
        "--target",
        choices=sorted(TARGETS),
        help="resume in place: a new run of the deployed flow on this engine, cloning from the origin",
    )
    target = target_from_argv(argv)
    if target in TARGETS:
        load_backend(target).add_arguments("trigger", parser)
    load_ir_for_parser(parser, argv)


def run(args: argparse.Namespace) -> int:
    from flowc.datastore.storage import StorageError, open_storage
    from flowc.runtime.launch import LaunchError, exit_code, start_run
    from flowc.runtime.resume import (
        Cloner,
        ResumeError,
        find_origin_run,
        origin_parameters,
        refuse_running_origin,
        steps_from,
    )

    ir = checked_ir(args, "resume")
    if ir is None:
        return 2
    ir = ir_with_decorators(args, ir, "resume")
    if ir is None:
        return 2
    ir = with_local_secrets(ir, args, "resume")
    if ir is None:
        return 2
    datastore = datastore_url(args)
    storage = open_storage(datastore)
    try:
        origin = find_origin_run(storage, ir.name, args.origin_run_id)
        rerun = steps_from(ir, args.step) if args.step else frozenset()
        if not args.force:
            refuse_running_origin(storage, ir.name, origin)
    except ResumeError as exc:
        print(f"flowc resume: {exc}", file=sys.stderr)
        return 2
    except StorageError as exc:
        print(f"flowc resume: datastore {datastore}: {exc}", file=sys.stderr)
        return 1
    if args.target:
        return _resume_on_engine(args, origin)
    ir = _with_origin_configs(args, ir, origin)
    if ir is None:
        return 2
    cloner = Cloner(storage, origin["id"], rerun)
    options = options_from_args(args, origin_parameters(origin), datastore, ir)
    try:
        _, outcome = start_run(ir, options, origin_run_id=origin["id"], clone=cloner)
    except (LaunchError, StorageError) as exc:
        print(f"flowc resume: {exc}", file=sys.stderr)
        return 1
    return exit_code(outcome)


def _with_origin_configs(args: argparse.Namespace, ir: FlowIR, origin: dict[str, Any]) -> FlowIR | None:
    """``ir`` built again with the origin run's config values, as Metaflow's resume reuses them;
    ``ir`` itself when the flow has no configs or the origin recorded none (a run started before
    flowc recorded them: its configs are resolved again, as for ``run``). None after printing why
    not (one line)."""
    recorded = origin.get("configs")
    if not ir.configs or recorded is None:
        return ir
    if getattr(args, "config_files", None) or getattr(args, "config_values", None):
        print(
            f"flowc resume: run {origin['id']} has its config values, which its resume reuses; "
            "drop --config/--config-value (start a new run with `flowc run` for other values)",
            file=sys.stderr,
        )
        return None
    from flowc.diagnostics import CompileError
    from flowc.frontend import build_ir
    from flowc.frontend.configs import ConfigInputs

    try:
        rebuilt = build_ir(args.flow, configs=ConfigInputs(fixed=recorded))
    except CompileError as exc:  # the flow changed since: a config it now declares has no value
        print(f"flowc resume: {exc}", file=sys.stderr)
        return None
    return ir_with_decorators(args, rebuilt, "resume")


def _resume_on_engine(args: argparse.Namespace, origin: dict[str, Any]) -> int:
    """Triggers the deployed flow with the origin run's parameters and ``--resume ORIGIN[/STEP]``
    for its start task: each task that succeeded in the origin run (and whose step is not re-run)
    clones itself from it instead of running (flowc.runtime.resume.clone_task)."""
    import json

    from flowc.backends import load_backend
    from flowc.backends.options import TriggerOptions
    from flowc.config import load_settings

    params = tuple(
        (name, value if isinstance(value, str) else json.dumps(value))
        for name, value in sorted((origin.get("parameters") or {}).items())
        if value is not None
    )
    options = TriggerOptions(
        params=params,
        tags=tuple(getattr(args, "tag", None) or ()),
        wait=bool(getattr(args, "wait", False)),
        namespace=getattr(args, "namespace", None),
        resume=str(origin["id"]) + (f"/{args.step}" if args.step else ""),
    )
    settings = load_settings({"datastore": getattr(args, "datastore", None)})
    return load_backend(args.target).trigger(str(args.flow), settings, options)
