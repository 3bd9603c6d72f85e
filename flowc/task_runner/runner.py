"""Running one task: inputs, the step body, artifacts, records, control outputs, exit code.

:func:`run_task` is the whole life of one attempt. It never raises for a task failure: it prints
one clear line naming the task's pathspec and the cause (after the traceback, if the step raised),
records the attempt, and returns the exit code of docs/architecture.md. Nothing here keeps state
between calls, so the local runtime can call it in a forked child.

Order of writes (each atomic): the attempt record (``running``) first; then objects; then the logs
and the final attempt record; ``task.json`` last, only on success. A task killed at any point
leaves no ``task.json`` and no visible partial object.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import sys
import traceback
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from flowc.attempts import is_catch_fallback, user_retries
from flowc.control import CONTROL_PREFIX, ControlRecord
from flowc.datastore.objects import ObjectStore
from flowc.datastore.serialization import SerializationError, type_name
from flowc.datastore.storage import Storage, StorageError
from flowc.environments.isolation import ISOLATED_ENV
from flowc.ir import Step
from flowc.metadata import (
    TaskAddress,
    claim_attempt,
    current_user,
    ensure_run,
    now_iso,
    read_run,
    write_attempt,
    write_log,
    write_task,
)
from flowc.parameter_values import EVENTS_KEY, OBJECTS_KEY, TAGS_KEY
from flowc.task_runner.capture import OutputCapture
from flowc.task_runner.context import (
    PRIVATE_PREFIX,
    InputContext,
    Inputs,
    StepContext,
    make_instance,
)
from flowc.task_runner.errors import (
    EXIT_INFRASTRUCTURE,
    EXIT_OK,
    EXIT_STEP_FAILED,
    EXIT_TIMEOUT,
    BadInput,
    CaughtException,
    FailureHandledByCatch,
    SecretsUnavailable,
    StepFailure,
    StepTimeout,
    TaskError,
    TimeoutException,
)
from flowc.task_runner.graph_info import graph_info
from flowc.task_runner.inputs import InputTask, foreach_split_record, resolve_inputs
from flowc.task_runner.loading import LoadedFlow, load_flow, load_package_flow
from flowc.task_runner.spec import TaskSpec
from flowc.task_runner.timeouts import step_timeout

__all__ = ["datastore_url", "run_task", "step_secrets"]

#: Parameters given in the environment (a JSON object), when there is no --params-file.
PARAMETERS_ENV = "FLOWC_PARAMETERS"
#: Parameter values bigger than this (as JSON) are stored as objects, not inline in run.json.
_INLINE_PARAMETER_BYTES = 1 << 16


def datastore_url(given: str | None) -> str:
    """``given`` (``--datastore``), else ``FLOWC_DATASTORE``, else configuration."""
    if given:
        return given
    if os.environ.get("FLOWC_DATASTORE"):
        return os.environ["FLOWC_DATASTORE"]
    from flowc.config import load_settings

    return str(load_settings()["datastore"])


def _say(message: str) -> None:
    """One line on stderr, flushed at once; credentials in a URL masked (it is also stored)."""
    from flowc.redact import mask_credentials

    sys.stderr.write(mask_credentials(message.rstrip("\n")) + "\n")
    sys.stderr.flush()


def run_task(
    spec: TaskSpec,
    *,
    flow: LoadedFlow | None = None,
    storage: Storage | None = None,
    owns_process: bool = False,
    live_logs: bool = False,
) -> int:
    """Runs one attempt of the task ``spec`` describes; returns its exit code.

    Args:
        spec: the task (what ``python -m flowc.task_runner`` parses from its argv).
        flow: the flow, already loaded (the local runtime loads it once before forking); else it
            is loaded from ``spec.source`` / ``spec.package``.
        storage: the datastore, already open; else opened from ``spec.datastore``.
        owns_process: the task has the process to itself (``python -m``, a forked child): a
            watchdog may then end the process if ``@timeout`` cannot interrupt the step.
        live_logs: upload the task's output while it runs (:mod:`flowc.task_runner.live_logs`):
            an engine's task; the local runtime keeps its tasks' output itself.

    Returns:
        0 success (or a failure caught by ``@catch``), 1 the step raised, 2 bad input,
        3 datastore failure, 4 killed by ``@timeout``.
    """
    pathspec = spec.address.pathspec
    if os.environ.get(ISOLATED_ENV):  # a @pypi step under flowc run: its environment's packages only
        from flowc.environments.isolation import isolate

        isolate()
    try:
        if storage is None:
            from flowc.datastore.storage import open_storage

            try:
                storage = open_storage(datastore_url(spec.datastore))
            except ValueError as exc:  # configuration that cannot be used
                raise BadInput(f"cannot open the datastore: {exc}") from None
        if flow is None:
            flow = load_task_flow(spec, storage)
        step = _step(flow, spec)
    except TaskError as exc:
        _say(f"flowc: task {pathspec} failed: {exc}")
        return exc.exit_code
    except StorageError as exc:
        _say(f"flowc: task {pathspec} failed: datastore error: {exc}")
        return EXIT_INFRASTRUCTURE
    except Exception as exc:
        traceback.print_exc()
        _say(f"flowc: task {pathspec} failed: importing the flow raised {type(exc).__name__}: {exc}")
        return EXIT_STEP_FAILED
    address = spec.address
    if spec.origin is not None or spec.address.step != "start":
        try:
            control = _clone_from_origin(spec, flow, storage, address)
        except StorageError as exc:
            _say(f"flowc: task {pathspec} failed: datastore error while cloning it: {exc}")
            return EXIT_INFRASTRUCTURE
        except TaskError as exc:  # the trigger's tags, given with the parameters, are malformed
            _say(f"flowc: task {pathspec} failed: {exc}")
            return exc.exit_code
        if control is not None:
            return _emit_control(spec, control, pathspec)
    try:
        attempt, attempt_record = claim_attempt(storage, address, spec.attempt)
    except StorageError as exc:
        _say(f"flowc: task {pathspec} failed: datastore error: {exc}")
        return EXIT_INFRASTRUCTURE
    task = _Task(spec, flow, step, storage, address, attempt, owns_process)
    with OutputCapture() as capture:
        if live_logs:
            from flowc.task_runner.live_logs import LiveLogs

            with LiveLogs(capture, storage, address, attempt):
                outcome = task.execute()
        else:
            outcome = task.execute()
    return task.finish(outcome, attempt_record, capture)


def load_task_flow(spec: TaskSpec, storage: Storage) -> LoadedFlow:
    """The flow of a task: from its code package (unpacked into the cache) or its source file."""
    if spec.package:
        from flowc.task_runner.bootstrap import materialize_package

        try:
            directory = materialize_package(storage, spec.package)
        except ValueError as exc:  # not a package hash
            raise BadInput(str(exc)) from None
        return load_package_flow(directory, spec.address.flow, ir_digest=spec.ir)
    if not spec.source:
        raise BadInput("give the flow's code with --source FILE or --package SHA256")
    return load_flow(spec.source, spec.address.flow, ir_digest=spec.ir)


def _unpicklable_constant(flow: str, constants: Mapping[str, Any]) -> BadInput | None:
    """The error naming the first class-level constant that cannot be pickled, if one cannot."""
    import pickle

    for name, value in constants.items():
        try:
            pickle.dumps(value, protocol=5)
        except Exception as exc:
            return BadInput(
                f"class attribute {name!r} of flow {flow} ({type_name(value)}) cannot be pickled, and "
                f"class-level constants are artifacts of the run: {type(exc).__name__}: {exc} (make it "
                "a module-level name, or create it inside the step that uses it)"
            )
    return None


def _step(flow: LoadedFlow, spec: TaskSpec) -> Step:
    if spec.address.flow != flow.ir.name:
        raise BadInput(f"the flow is {flow.ir.name!r}, not {spec.address.flow!r}")
    try:
        step = flow.ir.step(spec.address.step)
    except KeyError:
        steps = ", ".join(flow.ir.step_names)
        raise BadInput(
            f"flow {spec.address.flow} has no step {spec.address.step!r} (steps: {steps})"
        ) from None
    if len(spec.address.index_path) != step.foreach_depth:
        raise BadInput(
            f"step {step.name!r} runs inside {step.foreach_depth} foreach(es): --index needs "
            f"{step.foreach_depth} indices, got {len(spec.address.index_path)}"
        )
    return step


@dataclass
class _Outcome:
    exit_code: int
    reason: str | None = None  # one line, for the attempt record and the console
    record: dict[str, Any] | None = None  # task.json on success
    control: dict[str, Any] | None = None
    exception: dict[str, str] | None = None  # what the step raised (the client's Task.exception)


@dataclass
class _Task:
    spec: TaskSpec
    flow: LoadedFlow
    step: Step
    storage: Storage
    address: TaskAddress
    attempt: int
    owns_process: bool
    objects: ObjectStore = field(init=False)
    cards: Any = field(init=False, default=None)  # flowc.cards.render.CardRenderer, with @card

    def __post_init__(self) -> None:
        self.objects = ObjectStore(self.storage)
        if any(decorator.name == "card" for decorator in self.step.decorators):
            from flowc.cards.decorator import card_specs
            from flowc.cards.render import CardRenderer
            from flowc.cards.store import CardRef

            address = self.address
            ref = CardRef(address.flow, address.run_id, address.step, address.task_id, self.attempt)
            self.cards = CardRenderer(self.storage, ref, self.flow.ir, card_specs(self.step))

    @property
    def label(self) -> str:
        return f"{self.address.pathspec} (attempt {self.attempt})"

    # ---- the attempt ---------------------------------------------------------------------
    def execute(self) -> _Outcome:
        try:
            return self._execute()
        except StepTimeout as exc:
            return self._failed(EXIT_TIMEOUT, str(exc))
        except TaskError as exc:
            return self._failed(exc.exit_code, str(exc), _raised_by_step(exc))
        except SerializationError as exc:
            return self._failed(EXIT_STEP_FAILED, str(exc))
        except StorageError as exc:
            return self._failed(EXIT_INFRASTRUCTURE, f"datastore error: {exc}")
        except Exception as exc:  # a bug of ours: still one clear line
            traceback.print_exc()
            return self._failed(EXIT_INFRASTRUCTURE, f"internal error: {type(exc).__name__}: {exc}")

    def _failed(self, code: int, reason: str, exception: dict[str, str] | None = None) -> _Outcome:
        _say(f"flowc: task {self.label} failed: {reason}")
        return _Outcome(code, reason, exception=exception)

    def _execute(self) -> _Outcome:
        run = self._run_record()
        inputs = resolve_inputs(
            self.storage,
            self.flow.ir,
            self.step,
            self.address.run_id,
            self.address.index_path,
            self.address.iteration,
        )
        inherited, stack = self._inherited(inputs)
        context = StepContext(self.step, self.address.pathspec, inherited, stack, self.objects)
        instance = make_instance(self.flow.flow_class, context, self.flow.ir)
        context.attach(instance)
        if is_catch_fallback(self.step, self.attempt):
            # @catch's fallback: the earlier attempts died without raising; the body is not run
            # again, the failure is recorded and the static successors taken (flowc.attempts).
            caught: BaseException | None = self._caught(FailureHandledByCatch(self.attempt))
        else:
            join_inputs = self._join_inputs(inputs) if self.step.is_join else None
            caught = self._run_body(instance, context, join_inputs, run)
        control, foreach = self._control(instance, context, caught)
        artifacts = self._persist(instance, context, caught)
        record = {
            "flow": self.address.flow,
            "run_id": self.address.run_id,
            "step": self.step.name,
            "task_id": self.address.task_id,
            "attempt": self.attempt,
            "index_path": list(self.address.index_path),
            "iteration": self.address.iteration,
            "foreach_stack": context.stack.entries,
            "artifacts": artifacts,
            "control": control,
            "inputs": [item.address.pathspec for item in inputs],
            "python_version": platform.python_version(),  # Metaflow's task metadata (client metadata_dict)
            "caught": None if caught is None else f"{type_name(caught)}: {caught}",
            # Where the flow's code is: what reading an object of a class defined in the flow
            # file back needs (flowc.client imports it on demand).
            "code": {"package": self.spec.package} if self.spec.package else {"source": self.flow.path},
        }
        if foreach is not None:
            record["foreach"] = foreach
        return _Outcome(EXIT_OK, None, record, control)

    # ---- run record and parameters -------------------------------------------------------
    def _run_record(self) -> dict[str, Any]:
        if self.step.name != "start" and self.step.predecessors:
            return read_run(self.storage, self.address.flow, self.address.run_id) or {}
        return self._start_parameters_and_run()

    def _start_parameters_and_run(self) -> dict[str, Any]:
        from flowc.parameter_values import ParameterError, resolve_parameters, step_value

        existing = read_run(self.storage, self.address.flow, self.address.run_id)
        given = self._given_parameters(existing)
        trigger_tags = _trigger_tags(given.pop(TAGS_KEY, None))
        events = _triggering_events(given.pop(EVENTS_KEY, None))
        try:
            values = resolve_parameters(self.flow.ir.parameters, given)
            values.update(self._deferred_defaults(given, existing))
        except ParameterError as exc:
            raise BadInput(str(exc)) from None
        attributes = self.flow.parameter_attributes()
        # Class-level constants are artifacts of the run too, stored once here with the parameters
        # and passed down to every step (Metaflow's `_parameters` task does the same).
        constants = self.flow.constants()
        configs = self.flow.configs()
        try:
            self._parameter_refs = self.objects.put_values(
                {
                    **{name: (value, None) for name, value in constants.items()},
                    **{name: (value, None) for name, value in configs.items()},
                    **{
                        attributes[name]: (step_value(self.flow.ir.parameter(name), value), None)
                        for name, value in values.items()
                    },
                },
                step=self.step.name,
            )
        except SerializationError as exc:
            raise _unpicklable_constant(self.flow.ir.name, constants) or exc from None
        if existing is not None:
            return existing
        user, tags, system_tags, extra = _run_facts(self.spec, self.flow, self.storage, trigger_tags)
        if events:
            extra = {**extra, "trigger": events}
        return ensure_run(
            self.storage,
            self.address.flow,
            self.address.run_id,
            user=user,
            tags=tags,
            parameters={name: self._recordable(value) for name, value in values.items()},
            origin_run_id=self.spec.origin[0] if self.spec.origin else None,
            system_tags=[*_engine_system_tags(self.address.run_id, self.flow.ir.project), *system_tags],
            extra={**extra, **_resume_record(self.spec)},
        )

    def _deferred_defaults(self, given: Mapping[str, Any], run: Mapping[str, Any] | None) -> dict[str, Any]:
        """Deferred defaults of the parameters given no value, resolved here, where the run starts,
        on every target: a callable default (``default=lambda ctx: ...``) is called with Metaflow's
        ``ParameterContext``; an ``IncludeFile``'s default path is read (:meth:`_include_default`).
        The front end never runs user code, so no compiled document holds these values."""
        from flowc.authoring.configs import ConfigValue
        from flowc.authoring.current import task_facts
        from flowc.authoring.parameters import Parameter, ParameterContext
        from flowc.parameter_values import ParameterError, parse_value

        values: dict[str, Any] = {}
        attributes = self.flow.parameter_attributes()
        user = (run or {}).get("user") or current_user()
        project = self.flow.ir.project
        # What `current` says while a default function runs (Metaflow's: the flow, the run, the
        # user and the @project facts; no step yet).
        facts = {
            "flow_name": self.address.flow,
            "run_id": self.address.run_id,
            "username": user,
            **_project_facts(project.name if project is not None else None, self.address.flow, user),
        }
        for spec in self.flow.ir.parameters:
            if not spec.deferred_default or given.get(spec.name) is not None:
                continue
            declared = getattr(self.flow.flow_class, attributes[spec.name], None)
            if spec.is_file and isinstance(spec.default, str):
                values[spec.name] = self._include_default(spec.name, spec.default, declared)
                continue
            if not isinstance(declared, Parameter) or not callable(declared.default):
                continue
            context = ParameterContext(
                flow_name=self.address.flow,
                user_name=user,
                parameter_name=spec.name,
                logger=lambda *parts, **_: _say(" ".join(str(p) for p in parts)),
                ds_type="s3" if self.storage.url.startswith("s3://") else "local",
                configs=ConfigValue(self.flow.ir.config_values()),
            )
            try:
                with task_facts(**facts):
                    value = declared.default(context)
            except Exception as exc:
                raise ParameterError(
                    f"parameter {spec.name!r}: its default function raised {type(exc).__name__}: {exc}"
                ) from None
            values[spec.name] = None if value is None else parse_value(spec, value)
        return values

    def _include_default(self, name: str, default: str, declared: Any) -> str | bytes:
        """An ``IncludeFile``'s default content: the snapshot its code package took at deploy
        (``FLOWC_INCLUDE/<name>``), else the file where the run starts (the working directory, then
        the flow's folder), as Metaflow reads it."""
        from pathlib import Path

        from flowc.package import INCLUDE_SNAPSHOTS, include_file_path
        from flowc.parameter_values import ParameterError

        folder = Path(self.flow.path).parent
        snapshot = folder / INCLUDE_SNAPSHOTS / name
        found = snapshot if snapshot.is_file() else include_file_path(default, folder)
        if found is None:
            raise ParameterError(f"parameter {name!r}: cannot read its default file {default!r}")
        content = found.read_bytes()
        if not getattr(declared, "is_text", True):
            return content
        encoding = getattr(declared, "encoding", None) or "utf-8"
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            raise ParameterError(
                f"parameter {name!r}: default file {default!r} is not {encoding} text"
            ) from None

    def _given_parameters(self, run: Mapping[str, Any] | None) -> dict[str, Any]:
        return _given_parameters(self.spec, run, self.objects)

    def _recordable(self, value: Any) -> Any:
        """A parameter value as the run record keeps it: inline JSON, or ``{"$object": sha}``."""
        if isinstance(value, bytes):  # a binary IncludeFile: its raw bytes
            return {"$object": self.objects.put(value)[0]}
        text = json.dumps(value)
        if len(text) <= _INLINE_PARAMETER_BYTES:
            return value
        sha, _ = self.objects.put(text.encode("utf-8"))
        return {"$object": sha}

    # ---- inputs --------------------------------------------------------------------------
    def _inherited(self, inputs: list[InputTask]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Artifact references visible before the step, and the task's foreach stack."""
        if not inputs:
            return dict(getattr(self, "_parameter_refs", {})), []
        if self.step.is_join:
            # Parameters and constants have one value in the run: a join takes them from any input.
            parameters = {
                *self.flow.parameter_attributes().values(),
                *self.flow.constants(),
                *self.flow.configs(),
            }
            first = inputs[0].record
            inherited = {name: ref for name, ref in first["artifacts"].items() if name in parameters}
            split = self.flow.ir.step(self.step.split_of) if self.step.split_of else None
            if split is not None and split.transition == "foreach":
                stack = list(
                    foreach_split_record(
                        self.storage,
                        self.address.flow,
                        split,
                        self.address.run_id,
                        self.address.index_path,
                        self.address.iteration,
                    ).get("foreach_stack")
                    or []
                )
            else:
                stack = list(first.get("foreach_stack") or [])
            return inherited, stack
        parent = inputs[0].record
        stack = list(parent.get("foreach_stack") or [])
        foreach = parent.get("foreach")
        if foreach is not None and self.step.foreach_depth > len(stack):
            stack.append(
                {
                    "step": parent["step"],
                    "index": self.address.index_path[-1],
                    "num_splits": foreach["num_splits"],
                    "values": foreach["values"],
                }
            )
        return dict(parent["artifacts"]), stack

    def _join_inputs(self, inputs: list[InputTask]) -> Inputs:
        items = []
        for item in inputs:
            context = InputContext(
                item.step,
                item.address.pathspec,
                item.record.get("artifacts") or {},
                item.record.get("foreach_stack") or [],
                self.objects,
            )
            instance = make_instance(self.flow.flow_class, context, self.flow.ir)
            context.attach(instance)
            items.append(instance)
        split = self.flow.ir.step(self.step.split_of) if self.step.split_of else None
        static = split is not None and split.transition == "split"
        return Inputs(items, [item.step for item in inputs] if static else [])

    # ---- the step body -------------------------------------------------------------------
    def _catches(self) -> bool:
        """``@catch`` applies on the last attempt only (earlier ones are for ``@retry``)."""
        if self.step.catch is None:
            return False
        return self.attempt >= user_retries(self.step)

    def _run_body(
        self, instance: Any, context: StepContext, inputs: Inputs | None, run: Mapping[str, Any]
    ) -> BaseException | None:
        """Runs the step function; returns the exception ``@catch`` caught, if any."""
        from flowc.authoring.current import task_facts

        user = run.get("user") or current_user()
        project = self.flow.ir.project
        facts = {
            "flow_name": self.address.flow,
            "run_id": self.address.run_id,
            "step_name": self.step.name,
            "task_id": self.address.task_id,
            "retry_count": self.attempt,
            "origin_run_id": run.get("origin_run_id"),
            "username": user,
            "tags": tuple(run.get("tags") or self.spec.tags),
            "namespace": _task_namespace(run, user),
            "parameter_names": tuple(self.flow.parameter_attributes().values()),
            "graph": graph_info(self.flow),
            "trigger": _trigger(run),
            **_project_facts(project.name if project is not None else None, self.address.flow, user),
        }
        if self.cards is not None:
            facts["card"] = self.cards.collector
        limit = self.step.timeout.seconds if self.step.timeout is not None else None
        message = f"step {self.step.name!r} exceeded its @timeout of {limit} s"
        function = getattr(instance, self.step.name)
        try:
            with (
                task_facts(**facts),
                _client_defaults(self.storage.url, facts["namespace"]),
                _environment(self.step.environment + step_secrets(self.step)),
                step_timeout(limit, message, hard_exit=self.owns_process),
            ):
                if inputs is not None:
                    function(inputs)
                else:
                    function()
        except StepTimeout as exc:
            # A timeout counts as an exception of the step: retried, then caught by @catch
            # (https://docs.metaflow.org/api/step-decorators/timeout).
            if not self._catches():
                raise
            return self._caught(TimeoutException(str(exc)))
        except (KeyboardInterrupt, SystemExit) as exc:
            if isinstance(exc, KeyboardInterrupt):
                what = "was interrupted"
            else:
                what = f"called sys.exit({exc.code!r})"
            raise StepFailure(f"step {self.step.name!r} {what}") from None
        except Exception as exc:
            if isinstance(exc, TaskError | StorageError) and not isinstance(exc, StepFailure):
                raise  # not the step's fault (a corrupt input object, ...): never caught
            if not self._catches():
                if isinstance(exc, StepFailure):
                    # Broke a rule through flowc's API (merge_artifacts, self.next): say where.
                    raise StepFailure(f"{exc}{_user_line(exc, self.flow.path)}") from None
                traceback.print_exc()
                raise StepFailure(f"step {self.step.name!r} raised {type(exc).__name__}: {exc}") from exc
            assert self.step.catch is not None
            if self.step.catch.print_exception:
                traceback.print_exc()
            return self._caught(exc)
        return None

    def _caught(self, exc: BaseException) -> BaseException:
        _say(f"flowc: task {self.label}: @catch caught {type(exc).__name__}: {exc}")
        return exc

    # ---- control -------------------------------------------------------------------------
    def _control(
        self, instance: Any, context: StepContext, caught: BaseException | None
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        step = self.step
        where = context.where()
        iteration = self.address.iteration
        record = ControlRecord(
            step=step.name,
            task_id=self.address.task_id,
            index_path=tuple(self.address.index_path),
            transition=step.transition,
            iteration=iteration,
            next_iteration=iteration,
        )
        if step.transition == "end":
            return record.to_json(), None
        if caught is not None:
            if step.transition in ("foreach", "switch"):
                raise StepFailure(
                    f"step {step.name!r}{where} failed and @catch cannot choose its {step.transition} "
                    f"successors without self.next(): {type(caught).__name__}: {caught}"
                )
            return replace(record, next=tuple(step.successors)).to_json(), None
        call = context.next_call
        if call is None:
            raise StepFailure(f"step {step.name!r}{where} did not call self.next()")
        foreach = None
        if step.transition == "foreach":
            foreach = self._foreach(instance, where)
            record = replace(record, num_splits=foreach["num_splits"], next=tuple(step.successors))
        elif step.transition == "switch":
            case = self._switch_case(instance, where)
            looped = case.target in step.loop_targets
            record = replace(
                record,
                switch_case=case.key,
                next=(case.target,),
                next_iteration=iteration + 1 if looped else iteration,
            )
        else:
            record = replace(record, next=tuple(step.successors))
        return record.to_json(), foreach

    def _foreach(self, instance: Any, where: str) -> dict[str, Any]:
        name = self.step.foreach_var
        assert name is not None
        try:
            values = getattr(instance, name)
        except AttributeError:
            raise StepFailure(
                f"step {self.step.name!r}{where}: foreach over {name!r}, which is not set"
            ) from None
        # The splits are what iterating the value gives, as in Metaflow: for a DataFrame, its
        # columns (len() would count its rows).
        try:
            items = values if type(values) is list else list(values)
        except TypeError:
            raise StepFailure(
                f"step {self.step.name!r}{where}: foreach over {name!r} needs something iterable, "
                f"got {type_name(values)}"
            ) from None
        width = len(items)
        if width == 0:
            raise StepFailure(f"step {self.step.name!r}{where}: foreach over {name!r}, which is empty")
        reference = self.objects.put_value(items, name=name, step=self.step.name)
        return {"var": name, "num_splits": width, "values": reference}

    def _switch_case(self, instance: Any, where: str) -> Any:
        condition = self.step.condition
        assert condition is not None
        try:
            value = getattr(instance, condition)
        except AttributeError:
            raise StepFailure(
                f"step {self.step.name!r}{where}: switch on {condition!r}, which is not set"
            ) from None
        for case in self.step.switch_cases:
            if case.key == value or case.key == str(value):
                return case
        keys = ", ".join(repr(case.key) for case in self.step.switch_cases)
        raise StepFailure(
            f"step {self.step.name!r}{where}: switch on {condition!r} = {value!r}, which is none of "
            f"the cases {keys}"
        )

    # ---- artifacts -----------------------------------------------------------------------
    def _persist(
        self, instance: Any, context: StepContext, caught: BaseException | None
    ) -> dict[str, dict[str, Any]]:
        catch = self.step.catch
        if catch is not None and catch.var:
            if caught is not None:
                instance.__dict__[catch.var] = _caught_value(caught)
            else:
                instance.__dict__.setdefault(catch.var, None)
        artifacts = {name: dict(ref) for name, ref in context.inherited.items()}
        values = {
            name: (value, context.loaded.get(name))
            for name, value in instance.__dict__.items()
            if not name.startswith(PRIVATE_PREFIX)
        }
        artifacts.update(self.objects.put_values(values, step=self.step.name))
        return dict(sorted(artifacts.items()))

    # ---- the end -------------------------------------------------------------------------
    def finish(self, outcome: _Outcome, attempt_record: dict[str, Any], capture: OutputCapture) -> int:
        code = outcome.exit_code
        final: dict[str, Any] | None = None
        try:
            # An attempt that printed nothing has no log object (readers treat a missing log as empty).
            # Each stored log's SHA-256 goes into the attempt record, which readers check it against.
            logs = {
                stream: write_log(self.storage, self.address, self.attempt, stream, data)
                for stream, data in (("stdout", capture.stdout), ("stderr", capture.stderr))
                if data
            }
            final = {
                **attempt_record,
                "status": "successful" if code == EXIT_OK else "failed",
                "end": now_iso(),
                "exit_code": code,
                "exit_reason": outcome.reason,
            }
            if logs:
                final["logs"] = logs
            if outcome.exception is not None:
                final["exception"] = outcome.exception
            write_attempt(self.storage, self.address, final)
            if outcome.record is not None:
                write_task(self.storage, self.address, outcome.record)
        except StorageError as exc:
            reason = f"datastore error while recording the task: {exc}"
            _say(f"flowc: task {self.label} failed: {reason}")
            if final is not None and final["status"] == "successful":
                # The attempt was recorded successful, then task.json could not be written: the
                # record must not say successful (the run's failure reason is read from it).
                failed = {
                    **final,
                    "status": "failed",
                    "exit_code": EXIT_INFRASTRUCTURE,
                    "exit_reason": reason,
                }
                with contextlib.suppress(StorageError):
                    write_attempt(self.storage, self.address, failed)
            return EXIT_INFRASTRUCTURE
        if self.cards is not None and outcome.record is not None:
            # After task.json: a card renders from the finished task, as in Metaflow; a card
            # that fails or times out never changes the task's outcome (CardRenderer.final).
            self.cards.final()
        if outcome.control is not None and _emit_control(self.spec, outcome.control, self.label):
            return EXIT_INFRASTRUCTURE
        return code


def _emit_control(spec: TaskSpec, control: Mapping[str, Any], label: str) -> int:
    """Gives the engine the control record (``--control-file``, and the last stdout line); returns
    0, or 3 when the file cannot be written."""
    control_json = json.dumps(control, sort_keys=True, separators=(",", ":"))
    if spec.control_file:
        try:
            with open(spec.control_file, "w", encoding="utf-8") as handle:
                handle.write(control_json + "\n")
        except OSError as exc:
            _say(f"flowc: task {label} failed: cannot write {spec.control_file}: {exc}")
            return EXIT_INFRASTRUCTURE
    sys.stdout.write(f"{CONTROL_PREFIX} {control_json}\n")
    sys.stdout.flush()
    return EXIT_OK


def _clone_from_origin(
    spec: TaskSpec, flow: LoadedFlow, storage: Storage, address: TaskAddress
) -> dict[str, Any] | None:
    """Resuming in place: the task's control record after cloning it from the origin run, or None
    when it must run (no resume, its step is re-run, or it did not succeed there).

    The start task is told the origin (``--resume ORIGIN[/STEP]``) and records it in the run
    record (``resume``); every other task reads it there. A start task that is cloned records the
    run itself, with the origin's parameters."""
    from flowc.metadata import read_run_record

    if spec.origin is not None:
        origin_run_id, rerun_from = spec.origin
    else:
        # run.json alone: whether the run resumes does not depend on its tags, and reading them
        # (read_run) lists the run's tag updates, on every task of every run.
        resume = (read_run_record(storage, spec.address.flow, spec.address.run_id) or {}).get("resume")
        if not resume:
            return None
        origin_run_id, rerun_from = str(resume["origin_run_id"]), resume.get("step")
    from flowc.runtime.resume import clone_task, steps_from  # only when resuming: not in each task

    if rerun_from is not None and spec.address.step in steps_from(flow.ir, rerun_from):
        return None
    control = clone_task(storage, origin_run_id, address)
    if control is not None and spec.address.step == "start":
        origin = read_run(storage, spec.address.flow, origin_run_id) or {}
        given = _given_parameters(spec, origin, ObjectStore(storage))
        trigger_tags = _trigger_tags(given.get(TAGS_KEY))
        user, tags, system_tags, extra = _run_facts(spec, flow, storage, trigger_tags)
        ensure_run(
            storage,
            spec.address.flow,
            spec.address.run_id,
            user=user,
            tags=tags,
            parameters=origin.get("parameters") or {},
            origin_run_id=origin_run_id,
            system_tags=[*_engine_system_tags(spec.address.run_id, flow.ir.project), *system_tags],
            extra={**extra, **_resume_record(spec)},
        )
    return control


def _given_parameters(spec: TaskSpec, run: Mapping[str, Any] | None, objects: ObjectStore) -> dict[str, Any]:
    """The start task's parameters as given (the parameters file, else FLOWC_PARAMETERS, else the
    run record), values stored in the datastore read back, the trigger's tags under TAGS_KEY."""
    given, source = _raw_parameters(spec, run)
    stored = _stored_values(given.pop(OBJECTS_KEY, None), source)
    given = {**given, **stored}
    return {name: _dereference(objects, value) for name, value in given.items()}


def _dereference(objects: ObjectStore, value: Any) -> Any:
    """``{"$object": sha}`` -> the object's content: the value as JSON (how launchers store
    large values), else raw bytes (an ``IncludeFile`` that is not text)."""
    if not (isinstance(value, dict) and set(value) == {"$object"}):
        return value
    data = bytes(objects.get(str(value["$object"])))
    try:
        return json.loads(data)
    except ValueError:
        return data


def _raw_parameters(spec: TaskSpec, run: Mapping[str, Any] | None) -> tuple[dict[str, Any], str]:
    """The start task's parameters as given, values stored in the datastore still referenced,
    and where they came from."""
    if spec.params_file:
        try:
            with open(spec.params_file, encoding="utf-8") as handle:
                given = json.load(handle)
        except (OSError, ValueError) as exc:
            raise BadInput(f"cannot read parameters from {spec.params_file}: {exc}") from None
        source = spec.params_file
    elif os.environ.get(PARAMETERS_ENV):
        try:
            given = json.loads(os.environ[PARAMETERS_ENV])
        except ValueError as exc:
            raise BadInput(f"{PARAMETERS_ENV} is not JSON: {exc}") from None
        source = PARAMETERS_ENV
    else:
        given = dict((run or {}).get("parameters") or {})
        source = "the run record"
    if not isinstance(given, dict):
        raise BadInput(f"parameters from {source} must be a JSON object of name: value")
    return given, source


def _run_facts(
    spec: TaskSpec, flow: LoadedFlow, storage: Storage, trigger_tags: Sequence[str]
) -> tuple[str | None, tuple[str, ...], list[str], dict[str, Any]]:
    """The user, tags, system tags and fields the start task records on its run, whether it runs
    or is cloned: a run of a ``flowc deploy`` is in its production namespace (flowc.deployments)."""
    tags = (*spec.tags, *trigger_tags)
    deployment = _deployment(spec, flow, storage)
    if deployment is None:
        return None, tags, [], {}
    from flowc.deployments import run_facts
    from flowc.metadata import RUNTIME_TAGS, engine_of

    facts = run_facts(deployment, RUNTIME_TAGS[engine_of(spec.address.run_id, {})], tags)
    return facts.user, facts.tags, list(facts.system_tags), dict(facts.extra)


def _deployment(spec: TaskSpec, flow: LoadedFlow, storage: Storage) -> Any:
    """The deployment record of this engine run's flow (flowc.deployments), or None: a local
    run, or a document compiled and submitted without ``flowc deploy``."""
    from flowc.metadata import RUNTIME_TAGS, engine_of

    engine = engine_of(spec.address.run_id, {})
    if engine not in RUNTIME_TAGS:
        return None
    from flowc.deployments import read_deployment
    from flowc.project_branches import branch_from_environment

    branch = branch_from_environment() if flow.ir.project is not None else None
    return read_deployment(storage, spec.address.flow, engine, branch.name if branch else None)


def _resume_record(spec: TaskSpec) -> dict[str, Any]:
    """What the start task of a run resuming another in place records in the run record."""
    if spec.origin is None:
        return {}
    origin_run_id, step = spec.origin
    return {"resume": {"origin_run_id": origin_run_id, "step": step}}


def _raised_by_step(failure: TaskError) -> dict[str, str] | None:
    """``{type, message, traceback}`` of the exception the step raised, if that is why it failed."""
    raised = failure.__cause__
    if raised is None or isinstance(raised, TaskError | StorageError):
        return None
    kind = type(raised)
    name = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
    text = "".join(traceback.format_exception(kind, raised, raised.__traceback__))
    return {"type": name, "message": str(raised), "traceback": text}


def _user_line(exc: BaseException, flow_path: str) -> str:
    """`` at FILE:LINE`` of the innermost frame of the flow file in ``exc``'s traceback (empty when
    there is none, or when the message already names that place)."""
    found = None
    for frame, line in traceback.walk_tb(exc.__traceback__):
        if os.path.abspath(frame.f_code.co_filename) == flow_path:
            found = f"{os.path.basename(flow_path)}:{line}"
    return "" if found is None or found in str(exc) else f" at {found}"


def _caught_value(exc: BaseException) -> CaughtException:
    """What ``@catch(var=...)`` holds: Metaflow's exception wrapper (type, message, traceback)."""
    return CaughtException(exc)


def _trigger(run: Mapping[str, Any]) -> Any:
    """``current.trigger``: imported only for a triggered run (not in each task of every run)."""
    if not run.get("trigger"):
        return None
    from flowc.authoring.run_trigger import Trigger

    return Trigger(run["trigger"])


def _task_namespace(run: Mapping[str, Any], user: str) -> str:
    """The task's namespace (``current.namespace``, the client's default inside the step): a run of
    a ``flowc deploy`` is in its deployment's production namespace, as Metaflow's deployed runs
    (its task's client lists the deployment's runs, not the engine user's); any other run is in
    ``user:<user>``."""
    token = run.get("production_token")
    return f"production:{token}" if token else f"user:{user}"


@contextmanager
def _client_defaults(datastore: str, ns: str) -> Iterator[None]:
    """The client API inside the step reads the task's own datastore and namespace (as in Metaflow,
    where a task's client sees its run), whatever the configured default; so do the processes the
    step starts (``FLOWC_DATASTORE``). Restored afterwards (the local runtime may run tasks in-process)."""
    from flowc.client.namespaces import get_namespace, namespace

    previous = get_namespace()
    namespace(ns)
    try:
        with _environment((("FLOWC_DATASTORE", datastore),)):
            yield
    finally:
        namespace(previous)


def step_secrets(step: Step) -> tuple[tuple[str, str], ...]:
    """The variables of the step's ``@secrets``, read by their providers (:mod:`flowc.secret_sources`) for
    the step's duration; a source that cannot be read fails the task (exit 3), naming the source."""
    if not step.secrets:
        return ()
    from flowc.config import load_settings
    from flowc.secret_sources import SecretUnavailable, default_provider, read_secrets

    try:
        default = default_provider(os.environ, load_settings())
        return read_secrets(step.secrets, os.environ, default=default)
    except SecretUnavailable as exc:
        raise SecretsUnavailable(f"step {step.name!r}: {exc}") from None
    except ValueError as exc:  # configuration that cannot be read
        raise SecretsUnavailable(f"step {step.name!r}: @secrets: {exc}") from None


@contextmanager
def _environment(variables: tuple[tuple[str, str], ...]) -> Iterator[None]:
    """``@environment(vars=...)`` for the duration of the step (restored afterwards)."""
    if not variables:
        yield
        return
    saved = {name: os.environ.get(name) for name, _ in variables}
    os.environ.update(dict(variables))
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _trigger_tags(tags: Any) -> tuple[str, ...]:
    """The run's tags a trigger gave (``flowc trigger --tag``, under TAGS_KEY), checked."""
    if tags in (None, []):
        return ()
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise BadInput(f"{TAGS_KEY} in the parameters must be a list of tags")
    from flowc.ids import InvalidId, check_tag

    try:
        return tuple(check_tag(tag) for tag in tags)
    except InvalidId as exc:
        raise BadInput(str(exc)) from None


def _triggering_events(value: Any) -> list[dict[str, Any]]:
    """The events that started the run (under EVENTS_KEY), as the run record keeps them."""
    if value in (None, "", []):
        return []
    from flowc.authoring.run_trigger import trigger_events

    try:
        return trigger_events(value)
    except ValueError as exc:
        raise BadInput(f"{EVENTS_KEY} in the parameters: {exc}") from None


def _stored_values(objects: Any, source: str) -> dict[str, Any]:
    """``{"$objects": {name: sha}}`` (or its JSON text, from an engine whose parameters are
    strings) -> ``{name: {"$object": sha}}``."""
    if objects in (None, "", {}):
        return {}
    if isinstance(objects, str):
        try:
            objects = json.loads(objects)
        except ValueError as exc:
            raise BadInput(f"{OBJECTS_KEY} in parameters from {source} is not JSON: {exc}") from None
    if not isinstance(objects, dict) or not all(isinstance(sha, str) for sha in objects.values()):
        raise BadInput(f"{OBJECTS_KEY} in parameters from {source} must map names to object hashes")
    return {name: {"$object": sha} for name, sha in objects.items()}


def _engine_system_tags(run_id: str, project: Any) -> list[str]:
    """Metaflow's system tags of a run an engine started (its launcher wrote no record first):
    ``runtime:<engine>`` and, under @project, ``project:<name>`` and ``project_branch:<branch>``."""
    from flowc.metadata import RUNTIME_TAGS, engine_of

    tags = []
    engine = engine_of(run_id, {})
    if engine in RUNTIME_TAGS:
        tags.append(f"runtime:{RUNTIME_TAGS[engine]}")
    if project is not None:
        facts = _project_facts(project.name, "", current_user())
        tags += [f"project:{project.name}", f"project_branch:{facts['branch_name']}"]
    return tags


def _project_facts(project: str | None, flow: str, user: str) -> dict[str, Any]:
    """``current``'s @project facts: the branch the target set (flowc.project_branches), else the
    user's own."""
    if project is None:
        return {}
    from flowc.project_branches import Branch, branch_from_environment

    branch = branch_from_environment() or Branch(f"user.{user}", production=False)
    return {
        "project_name": project,
        "branch_name": branch.name,
        "is_production": branch.production,
        "is_user_branch": branch.is_user_branch,
        "project_flow_name": branch.flow_name(project, flow),
    }
