"""What runs once after a run ends: the flow's ``@exit_hook`` functions and the deployment's notifications.

Every target already runs one end-of-run command, ``python -m flowc.task_runner.finish`` (Argo's
``onExit``, a Step Functions state, Airflow's teardown task); after it has recorded the run's status
it calls :func:`after_run`. The local runtime records the status itself, then runs
``python -m flowc.task_runner.hooks`` (its own process: hooks are user code). So hooks are lowered
once, here, and no back end knows about them beyond giving the end-of-run command the flow's code.

As in Metaflow (its ``exit_hook_script.py``), a hook is a function of the flow's module, called
with ``run=`` (the client's :class:`~flowc.client.Run`, or None if it cannot be read) when it takes
a ``run`` argument or ``**kwargs``, else with none. ``on_success`` hooks run when the run succeeded,
``on_error`` ones otherwise. A hook that raises is logged on stderr and the next one runs: the run's
status, already recorded, never changes, and the end-of-run command still exits 0.

Exit codes of ``python -m flowc.task_runner.hooks``: 0 (whatever the hooks did), 2 bad arguments,
3 datastore failure (the run's status cannot be read).
"""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["after_run", "hook_names", "main", "run_exit_hooks"]


def hook_names(ir: Any, status: str) -> tuple[str, ...]:
    """The exit hooks of ``ir`` to run for a run that ended with ``status``."""
    hooks = ir.exit_hooks
    if hooks is None:
        return ()
    return hooks.on_success if status == "successful" else hooks.on_error


def _say(message: str) -> None:
    print(f"flowc: {message}", file=sys.stderr, flush=True)


def _run_object(flow: str, run_id: str) -> Any:
    from flowc.client import Run, namespace

    namespace(None)  # the hook sees its run whoever deployed it (Metaflow does the same)
    try:
        return Run(f"{flow}/{run_id}")
    except Exception as exc:  # the hook still runs; it is told there is no run
        _say(f"exit hooks get run=None: cannot read run {flow}/{run_id}: {exc}")
        return None


def _takes_run(function: Any) -> bool:
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "run" or p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)


def run_exit_hooks(flow: Any, run_id: str, status: str, datastore: str) -> list[tuple[str, str | None]]:
    """Calls the hooks of ``flow`` (a :class:`~flowc.task_runner.loading.LoadedFlow`) for ``status``;
    returns ``(name, error or None)`` per hook, in order."""
    names = hook_names(flow.ir, status)
    if not names:
        return []
    from flowc.task_runner.loading import import_flow_module

    os.environ["FLOWC_DATASTORE"] = datastore  # the client in the hooks reads the run's datastore
    module = import_flow_module(flow.path, flow.ir.name)
    run = None
    results: list[tuple[str, str | None]] = []
    for name in names:
        function = getattr(module, name, None)
        if not callable(function):
            results.append((name, f"the flow's module has no function {name!r}"))
            _say(f"exit hook {name} of run {flow.ir.name}/{run_id} not run: {results[-1][1]}")
            continue
        try:
            if _takes_run(function):
                if run is None:
                    run = _run_object(flow.ir.name, run_id)
                function(run=run)
            else:
                function()
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            results.append((name, f"{type(exc).__name__}: {exc}"))
            _say(f"exit hook {name} of run {flow.ir.name}/{run_id} failed: {results[-1][1]}")
            continue
        results.append((name, None))
        print(f"exit hook {name} of run {flow.ir.name}/{run_id} ({status}): done", flush=True)
    return results


def after_run(
    flow_name: str,
    run_id: str,
    status: str,
    *,
    datastore: str,
    package: str | None,
    source: str | None,
) -> None:
    """Runs what follows a run's end: its exit hooks. Never raises (but KeyboardInterrupt): what
    goes wrong is logged on stderr, the run's recorded status stays as it is."""
    if not package and not source:
        return  # no code to find hooks in (an end-of-run command given none has none to run)
    from flowc.datastore.storage import open_storage
    from flowc.metadata import TaskAddress
    from flowc.task_runner.runner import load_task_flow
    from flowc.task_runner.spec import TaskSpec

    end = TaskAddress(flow=flow_name, run_id=run_id, step="end")
    spec = TaskSpec(address=end, source=source, package=package, datastore=datastore)
    try:
        flow = load_task_flow(spec, open_storage(datastore))
        run_exit_hooks(flow, run_id, status, datastore)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        _say(f"exit hooks of run {flow_name}/{run_id} not run: {type(exc).__name__}: {exc}")


def main(argv: Sequence[str]) -> int:
    from flowc.task_runner.spec import parse_finish_argv

    try:
        # The end-of-run command's line (flowc.task_runner.spec.FinishSpec): --status and --reason
        # are not read here, the status is the one status.json records.
        args = parse_finish_argv(argv, prog="python -m flowc.task_runner.hooks")
    except SystemExit as exc:
        return int(exc.code or 0)
    if not args.package and not args.source:
        _say("give the flow's code with --source FILE or --package SHA256")
        return 2
    from flowc import metadata
    from flowc.datastore.storage import StorageError, open_storage
    from flowc.task_runner.runner import datastore_url

    url = datastore_url(args.datastore)
    try:
        record = metadata.read_status(open_storage(url), args.flow, args.run_id)
    except StorageError as exc:
        _say(f"cannot read the status of run {args.flow}/{args.run_id} in {url}: {exc}")
        return 3
    if record is None:
        _say(f"run {args.flow}/{args.run_id} has not ended (no status.json in {url})")
        return 2
    after_run(
        args.flow,
        args.run_id,
        str(record.get("status")),
        datastore=url,
        package=args.package,
        source=args.source,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
