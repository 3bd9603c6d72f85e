"""The one deploy (and undeploy) of every target: a fixed sequence with target hooks.

``flowc deploy``: connect (the target's configuration: API server, IAM role, DAGs folder) ->
build the code package -> compile with its hash (every refusal, before anything is read or
uploaded) -> plan (read what is deployed; one :class:`Change` per object) -> with ``--dry-run``,
print each change and its unified diff and stop -> upload the package -> apply the changes in
order. ``flowc undeploy``: connect -> plan the removals -> (dry run: print) -> apply.

A target supplies :class:`DeployHooks`: ``connect``, ``plan`` and ``removals``. Everything else,
the order, the messages and the exit codes, is here, the same on every target:

- 0: done (or nothing to change; a dry run);
- 1: the flow cannot be deployed (a refusal, a package that cannot be built) or the engine, the
  datastore or the upload failed;
- 2: configuration missing or wrong (no API server, no IAM role, no DAGs folder).

Every error is one line on stderr (``flowc deploy: ...``), never a traceback; a dry run changes
nothing, and a failure before the apply step changes nothing either.
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TextIO

if TYPE_CHECKING:
    from flowc.backends.base import Backend
    from flowc.backends.options import CompileOptions, DeployOptions
    from flowc.config import Settings
    from flowc.ir import FlowIR

__all__ = [
    "EXIT_CONFIGURATION",
    "EXIT_FAILED",
    "Change",
    "DeployError",
    "DeployHooks",
    "deploy",
    "undeploy",
]

#: Exit code: the flow cannot be deployed, or the engine or datastore failed.
EXIT_FAILED = 1
#: Exit code: the target's configuration is missing or wrong.
EXIT_CONFIGURATION = 2


class DeployError(Exception):
    """A deploy that cannot go on: the message is the one line the user reads.

    Args:
        message: what went wrong and, where it helps, what to set.
        exit_code: :data:`EXIT_FAILED` or :data:`EXIT_CONFIGURATION`.
    """

    def __init__(self, message: str, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class Change:
    """One object deploy creates, updates, leaves alone or deletes.

    Attributes:
        action: ``create``, ``update``, ``unchanged`` or ``delete``.
        what: the object as the user knows it (``WorkflowTemplate/x in ns``, ``state machine X``).
        before: the deployed object's text (empty when there is none), for the dry run's diff.
        after: the new text (empty for a delete).
        apply: makes the change (None for ``unchanged``).
        note: why, printed after the object (``the flow has no @schedule any more``).
    """

    action: str
    what: str
    before: str = ""
    after: str = ""
    apply: Callable[[], object] | None = field(default=None, compare=False)
    note: str = ""

    def diff(self) -> str:
        before, after = self.before.splitlines(keepends=True), self.after.splitlines(keepends=True)
        lines = difflib.unified_diff(before, after, f"{self.what} (deployed)", f"{self.what} (new)")
        text = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
        return text


_PAST = {"create": "created", "update": "updated", "delete": "deleted", "unchanged": "unchanged"}


def changed(what: str, before: str | None, after: str, apply: Callable[[], object]) -> Change:
    """The change that makes ``what`` read ``after`` (it reads ``before``, None if absent)."""
    if before is None:
        return Change("create", what, "", after, apply)
    if before == after:
        return Change("unchanged", what, before, after)
    return Change("update", what, before, after, apply)


class DeployHooks(Protocol):
    """What a target adds to the skeleton. Each hook raises :class:`DeployError` to stop."""

    def connect(self, settings: Settings, options: DeployOptions) -> Any:
        """A session with the engine (a client, a folder); DeployError(exit 2) when unconfigured.

        Reads nothing yet, and writes nothing."""

    def plan(self, ir: FlowIR, settings: Settings, options: CompileOptions, session: Any) -> list[Change]:
        """The changes that deploy ``ir`` (compiled with ``options``), in the order to apply."""

    def removals(self, ir: FlowIR, settings: Settings, options: CompileOptions, session: Any) -> list[Change]:
        """The deletes that remove everything deploy made for ``ir`` (only what exists)."""


def deploy(
    backend: Backend,
    ir: FlowIR,
    settings: Settings,
    options: DeployOptions,
    *,
    out: TextIO | None = None,
) -> int:
    """Deploys ``ir`` with ``backend``'s hooks; returns the exit code (module docstring)."""
    from flowc.diagnostics import CompileError
    from flowc.package import PackageError, build_package

    out = out or sys.stdout
    hooks = backend.deployment
    try:
        session = hooks.connect(settings, options)
        try:
            package = build_package(options.flow_file, settings=settings, ir=ir)
        except (PackageError, OSError, ValueError) as exc:
            raise DeployError(f"cannot build the code package: {_one_line(exc)}") from None
        compile_options = options.compile.with_package(package.sha)
        try:
            backend.compile(ir, settings, compile_options)  # every refusal, before anything is read
        except CompileError as exc:
            print(exc, file=sys.stderr)
            return EXIT_FAILED
        changes = _guarded(lambda: hooks.plan(ir, settings, compile_options, session))
        datastore = str(settings["datastore"])
        record, record_change = _guarded(
            lambda: _record_change(backend.name, ir, settings, options), "datastore: "
        )
        if options.dry_run:
            print(f"would upload code package {package.sha} ({package.size} bytes) to {datastore}", file=out)
            _print_plan([record_change, *changes], out)
            return 0
        url = _upload(package, ir, settings, datastore)
        print(f"uploaded code package {package.sha} to {url}", file=out)
        # The record first: a run the new objects start at once is already in its namespace.
        _apply([record_change, *changes], out)
        print(
            f"production token {record.production_token}: its runs are in namespace "
            f"production:{record.production_token}",
            file=out,
        )
    except DeployError as exc:
        print(f"flowc deploy: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


def undeploy(
    backend: Backend,
    ir: FlowIR,
    settings: Settings,
    options: DeployOptions,
    *,
    out: TextIO | None = None,
) -> int:
    """Removes what deploy made for ``ir``; returns the exit code (module docstring).

    The code package stays in the datastore: runs, and resumes of them, still read it."""
    out = out or sys.stdout
    hooks = backend.deployment
    try:
        session = hooks.connect(settings, options)
        changes = _guarded(lambda: hooks.removals(ir, settings, options.compile, session))
        changes += _guarded(lambda: _record_removal(backend.name, ir, settings), "datastore: ")
        if not changes:
            print(f"nothing deployed for {ir.name} on {backend.name}", file=out)
            return 0
        if options.dry_run:
            _print_plan(changes, out)
            return 0
        _apply(changes, out)
    except DeployError as exc:
        print(f"flowc undeploy: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


def _deployment_place(target: str, ir: FlowIR, settings: Settings) -> tuple[Any, str, str | None]:
    """(the datastore, the engine's name, the @project branch) the deployment record is kept by."""
    from flowc.datastore.storage import open_storage
    from flowc.metadata import ENGINES
    from flowc.project_branches import project_branch

    branch = project_branch(settings).name if ir.project is not None else None
    return open_storage(str(settings["datastore"])), ENGINES[f"{target}-"], branch


def _record_change(target: str, ir: FlowIR, settings: Settings, options: DeployOptions) -> tuple[Any, Change]:
    """The deployment record (flowc.deployments) this deploy writes: the production token of an
    earlier deploy is kept, a first deploy makes one."""
    import json

    from flowc.deployments import DeploymentRecord, new_production_token, read_deployment
    from flowc.metadata import current_user, encode_json

    storage, engine, branch = _deployment_place(target, ir, settings)
    existing = read_deployment(storage, ir.name, engine, branch)
    record = DeploymentRecord(
        flow=ir.name,
        engine=engine,
        production_token=existing.production_token if existing else new_production_token(ir.name),
        deployed_by=current_user(),
        tags=tuple(sorted(set(options.tags))),
        branch=branch,
    )

    def text(found: DeploymentRecord | None) -> str | None:
        return json.dumps(found.document(), indent=2, sort_keys=True) + "\n" if found else None

    change = changed(
        f"deployment record {record.key}",
        text(existing),
        text(record) or "",
        lambda: storage.write(record.key, encode_json(record.document())),
    )
    return record, change


def _record_removal(target: str, ir: FlowIR, settings: Settings) -> list[Change]:
    from flowc.deployments import read_deployment

    storage, engine, branch = _deployment_place(target, ir, settings)
    existing = read_deployment(storage, ir.name, engine, branch)
    if existing is None:
        return []
    return [Change("delete", f"deployment record {existing.key}", apply=lambda: storage.delete(existing.key))]


def _upload(package: Any, ir: FlowIR, settings: Settings, datastore: str) -> str:
    """Stores the code package (and the locks of its @pypi environments: flowc.environments)."""
    from flowc.datastore.storage import open_storage
    from flowc.environments.deploy import store_code
    from flowc.environments.resolve import ResolveError

    def store() -> str:
        try:
            return store_code(open_storage(datastore), package, ir, settings)
        except ResolveError as exc:  # @pypi that cannot be locked: nothing was uploaded
            raise DeployError(str(exc)) from None

    return _guarded(store, "cannot upload the code package: ")


def _print_plan(changes: Sequence[Change], out: TextIO) -> None:
    for change in changes:
        if change.action == "unchanged":
            print(f"unchanged {change.what}", file=out)
            continue
        print(f"would {change.action} {change.what}{_note(change)}", file=out)
        out.write(change.diff())


def _apply(changes: Sequence[Change], out: TextIO) -> None:
    for change in changes:
        if change.apply is not None:
            _guarded(change.apply)
        print(f"{_PAST[change.action]} {change.what}{_note(change)}", file=out)


def _note(change: Change) -> str:
    return f": {change.note}" if change.note else ""


def _guarded(call: Callable[[], Any], prefix: str = "") -> Any:
    """``call()``, any failure of the engine, the network or the datastore as one DeployError.

    Deploy runs unattended (CI): whatever the engine's client raises (botocore, HTTP, OS errors)
    ends it with one line naming the cause, credentials in URLs masked."""
    try:
        return call()
    except DeployError:
        raise
    except Exception as exc:
        raise DeployError(f"{prefix}{_one_line(exc)}") from None


def _one_line(exc: BaseException) -> str:
    from flowc.redact import mask_credentials

    text = " ".join(str(exc).split()) or type(exc).__name__
    return mask_credentials(text)
