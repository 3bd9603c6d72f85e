"""``python -m flowc.task_runner.finish``: an engine's exit hook records how a run ended (``status.json``).

The local runtime writes ``status.json`` itself when a run ends. On Argo, Step Functions and Airflow
the engine runs this command once at the end of every run, whether it succeeded or not (Argo's
``onExit`` handler, a Catch on Step Functions, an ``all_done`` teardown task on Airflow), so the
client's ``Run.finished`` and ``Run.status`` are true of engine runs too. With ``--status auto``
(the default) the outcome is read from the datastore, not trusted to the engine: the run succeeded
exactly when a task of its ``end`` step stored its record; otherwise the reason names the first
task that has no record and what its last attempt recorded. Then the flow's exit hooks run
(``flowc.task_runner.hooks``), found in the code given by ``--package`` or ``--source``; what they
do never changes the status written, nor this command's exit code.

Exit codes: 0 status written, 2 bad arguments, 3 datastore failure.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from flowc.datastore import layout
from flowc.datastore.storage import Storage, StorageError

__all__ = ["main", "outcome_from_datastore", "task_counts"]

END_STEP = "end"


def _tasks(storage: Storage, flow: str, run_id: str) -> tuple[set[str], dict[str, int]]:
    """``"step/task"`` of every task that stored its record, and the highest attempt of each task."""
    prefix = layout.run_prefix(flow, run_id)
    finished: set[str] = set()
    attempted: dict[str, int] = {}
    for key in storage.list(prefix):
        parts = key[len(prefix) + 1 :].split("/")
        if len(parts) != 3:
            continue
        step, task, name = parts
        address = f"{step}/{task}"
        if name == "task.json":
            finished.add(address)
        elif name.startswith("attempt-") and name.endswith(".json") and name[8:-5].isdigit():
            attempted[address] = max(attempted.get(address, -1), int(name[8:-5]))
    return finished, attempted


def task_counts(storage: Storage, flow: str, run_id: str) -> dict[str, int]:
    """How many tasks of each step stored their record (what ``status.json`` keeps as ``tasks``)."""
    counts: dict[str, int] = {}
    for address in _tasks(storage, flow, run_id)[0]:
        step = address.split("/")[0]
        counts[step] = counts.get(step, 0) + 1
    return counts


def outcome_from_datastore(storage: Storage, flow: str, run_id: str) -> tuple[str, str | None]:
    """``(status, reason)`` of a run whose orchestrator has stopped, read from its records."""
    from flowc import metadata

    finished, attempted = _tasks(storage, flow, run_id)
    if any(address.split("/")[0] == END_STEP for address in finished):
        return "successful", None
    failures = []
    for address in sorted(set(attempted) - finished):
        task = address.split("/")[1]
        record = (
            metadata.read_attempt(
                storage,
                metadata.TaskAddress.from_task_id(flow=flow, run_id=run_id, task_id=task),
                attempted[address],
            )
            or {}
        )
        # The cause comes first: a task whose runner recorded its own end (an exit code) before one
        # the orchestrator stopped because of it; then the earliest to end.
        failures.append((record.get("exit_code") is None, str(record.get("end") or "~"), address, record))
    if failures:
        _, _, address, record = min(failures, key=lambda failure: failure[:3])
        why = record.get("exit_reason") or f"attempt {attempted[address]} ended {record.get('status', '?')}"
        return "failed", f"task {flow}/{run_id}/{address} failed: {why}"
    if not attempted:
        return "failed", "no task of the run started (see the orchestrator's log)"
    return "failed", "the run stopped before its end step ran (see the orchestrator's log)"


def main(argv: Sequence[str]) -> int:
    from flowc.task_runner.spec import parse_finish_argv

    try:
        args = parse_finish_argv(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    from flowc import metadata
    from flowc.datastore.storage import open_storage
    from flowc.task_runner.runner import datastore_url

    url = datastore_url(args.datastore)
    try:
        storage = open_storage(url)
        recorded = metadata.read_status(storage, args.flow, args.run_id) or {}
        if args.status == "auto" and recorded.get("ended_by"):
            # Someone ended the run (flowc terminate) before the engine ran this hook: keep who.
            status, reason = str(recorded["status"]), f"ended by {recorded['ended_by']}"
        else:
            status, reason = outcome_from_datastore(storage, args.flow, args.run_id)
            if args.status != "auto":
                status, reason = args.status, args.reason or reason
            elif args.reason and status != "successful":
                reason = f"{reason} ({args.reason})"
            counts = task_counts(storage, args.flow, args.run_id)
            metadata.write_status(storage, args.flow, args.run_id, status, reason, counts)
    except StorageError as exc:
        where = f"run {args.flow}/{args.run_id} in {url}"
        print(f"flowc: cannot record the end of {where}: {exc}", file=sys.stderr)
        return 3
    print(f"run {args.flow}/{args.run_id}: {status}" + (f" ({reason})" if reason else ""), flush=True)
    from flowc.task_runner.hooks import after_run

    after_run(args.flow, args.run_id, status, datastore=url, package=args.package, source=args.source)
    if status == "successful":
        _announce(args.flow, args.run_id)
    if args.notify:
        from flowc.config import ConfigError, load_settings
        from flowc.notifications import notify

        try:
            settings = load_settings()
        except ConfigError as exc:
            print(f"flowc: no notification sent: {exc}", file=sys.stderr)
        else:
            notify(settings, args.notify, flow=args.flow, run_id=args.run_id, status=status, reason=reason)
    return 0


def _announce(flow: str, run_id: str) -> None:
    """Starts the ``@trigger_on_finish`` flows of this one (flowc.events); a failure is logged and
    changes nothing, as a notification's."""
    from flowc.config import ConfigError, load_settings
    from flowc.events import EventError, announce_finished_run

    try:
        body = announce_finished_run(flow, run_id, load_settings())
    except (ConfigError, EventError) as exc:
        print(f"flowc: the end of run {flow}/{run_id} was not announced: {exc}", file=sys.stderr)
        return
    if body is not None:
        print(f"announced event {body['name']} ({body['id']})", flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
