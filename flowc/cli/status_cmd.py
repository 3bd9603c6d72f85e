"""``flowc status Flow/RUN_ID``: a run's status, who or what ended it, each step's task counts and
the failed tasks with their errors (:mod:`flowc.client.status`).

The datastore says all that, except for a run its engine ended where no task of it could record
the end: a run-level timeout (``--workflow-timeout``) on Step Functions (no state runs after the
state machine's ``TimeoutSeconds``) or on Airflow (``dagrun_timeout`` skips the finishing task).
So for a run an engine started that the datastore shows running, the engine is asked too.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from flowc.cli.pathspecs import add_flow_name_option, full_pathspec

if TYPE_CHECKING:
    from flowc.client.status import RunStatus

HELP = "a run's status, its steps' task counts and its failed tasks (Flow/run_id)"


def add_arguments(parser: argparse.ArgumentParser, argv: list[str]) -> None:
    parser.add_argument("run", metavar="RUN", help="Flow/run_id (run_id under python FLOW.py)")
    parser.add_argument(
        "--datastore", metavar="URL", help="datastore root (default: FLOWC_DATASTORE or config)"
    )
    add_flow_name_option(parser)


def run(args: argparse.Namespace) -> int:
    import sys

    from flowc.client import MetaflowNotFound, Run
    from flowc.client.status import format_status, run_status
    from flowc.datastore.storage import StorageError

    pathspec = full_pathspec(args.run, args.flow_name, (2,))
    try:
        summary = run_status(Run(pathspec, datastore=args.datastore, _namespace_check=False))
    except (MetaflowNotFound, StorageError, ValueError) as exc:  # ValueError: a malformed pathspec
        print(f"flowc status: {exc}", file=sys.stderr)
        return 1
    print(format_status(_with_engine_verdict(summary, args.datastore)))
    return 0


def _with_engine_verdict(summary: RunStatus, datastore: str | None) -> RunStatus:
    """``summary``, failed with the engine's state as the reason when the datastore shows the run
    running but its engine has ended it (unchanged if the engine cannot be asked: a note on stderr)."""
    import dataclasses
    import sys

    from flowc.backends import load_backend, target_of_run
    from flowc.backends.base import OperateError
    from flowc.backends.options import engine_options
    from flowc.config import ConfigError, load_settings

    flow, run_id = summary.pathspec.split("/")
    target = target_of_run(run_id)
    if summary.status != "running" or target is None:
        return summary
    try:
        known = load_backend(target).engine_runs(
            flow, load_settings({"datastore": datastore}), engine_options({})
        )
    except (OperateError, ConfigError) as exc:
        print(f"flowc status: {target} not asked how the run is: {exc}", file=sys.stderr)
        return summary
    ended = [r for r in known if r.run_id == run_id and r.finished and r.state.lower() not in _SUCCEEDED]
    if not ended:
        return summary
    reason = f"{target}: {ended[0].state} (no task recorded the run's end)"
    return dataclasses.replace(summary, status="failed", reason=reason)


#: An engine's state for a run that succeeded (Argo, Step Functions, Airflow).
_SUCCEEDED = ("succeeded", "success")
