"""What a running step sees through ``self``: the task context behind :class:`flowc.FlowSpec`.

:class:`StepContext` implements the :class:`flowc.authoring.flowspec.TaskContext` protocol for the
task being run: inherited artifacts load lazily (one object per artifact read), ``self.next`` is
recorded and checked against the IR, ``self.input``/``self.index``/``foreach_stack()`` come from the
foreach stack in the task records, and ``merge_artifacts`` merges by reference (by hash: nothing is
loaded to compare). A join's ``inputs`` are flow instances whose own context
(:class:`InputContext`) reads one input task's artifacts.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flowc.authoring.flowspec import CONTEXT_ATTRIBUTE, IR_ATTRIBUTE
from flowc.datastore.objects import ObjectStore
from flowc.ir import Step
from flowc.task_runner.errors import StepFailure

__all__ = ["InputContext", "Inputs", "NextCall", "StepContext", "make_instance"]

#: Attribute-name prefix that is never an artifact (the runner's own state on the instance).
PRIVATE_PREFIX = "_flowc"


def make_instance(flow_class: type, context: Any, ir: Any = None) -> Any:
    """An instance of the flow class without running ``__init__`` (which would start the CLI);
    ``ir``: the IR the task runs, which ``flow._graph`` reads."""
    instance = flow_class.__new__(flow_class)
    instance.__dict__[CONTEXT_ATTRIBUTE] = context
    if ir is not None:
        instance.__dict__[IR_ATTRIBUTE] = ir
    return instance


@dataclass(frozen=True)
class NextCall:
    """What ``self.next(...)`` named: target step names, and the foreach / condition argument."""

    targets: tuple[str, ...]
    foreach: str | None
    condition: str | None
    cases: tuple[tuple[str, str], ...] = ()  # switch: (key, target) in the order written


class _ForeachStack:
    """The foreach stack of a task: entries ``{"step", "index", "num_splits", "values"}`` outermost
    first, where ``values`` references the stored list the foreach iterated over."""

    def __init__(self, entries: Sequence[Mapping[str, Any]], objects: ObjectStore) -> None:
        self.entries = [dict(entry) for entry in entries]
        self._objects = objects
        self._values: dict[int, Any] = {}

    def value(self, level: int) -> Any:
        if level not in self._values:
            entry = self.entries[level]
            self._values[level] = self._objects.load_value(entry["values"])[entry["index"]]
        return self._values[level]

    def top_value(self) -> Any:
        return self.value(len(self.entries) - 1) if self.entries else None

    def top_index(self) -> int | None:
        return int(self.entries[-1]["index"]) if self.entries else None

    def frames(self) -> list[tuple[str, int, int, Any]]:
        """(split step, index, num_splits, value) from the outermost foreach inwards."""
        return [
            (str(entry["step"]), int(entry["index"]), int(entry["num_splits"]), self.value(level))
            for level, entry in enumerate(self.entries)
        ]

    def as_tuples(self) -> list[tuple[int, int, Any]]:
        return [
            (int(entry["index"]), int(entry["num_splits"]), self.value(level))
            for level, entry in enumerate(self.entries)
        ]


class InputContext:
    """The context of one input of a join: reads that input task's artifacts (read-only).

    Args:
        step: the input task's step.
        pathspec: the input task's pathspec (for messages).
        artifacts: its ``task.json`` artifact references.
        foreach_stack: its foreach stack entries.
        objects: the object store.
    """

    def __init__(
        self,
        step: str,
        pathspec: str,
        artifacts: Mapping[str, Mapping[str, Any]],
        foreach_stack: Sequence[Mapping[str, Any]],
        objects: ObjectStore,
    ) -> None:
        self.step = step
        self.pathspec = pathspec
        self.artifacts = dict(artifacts)
        self.objects = objects
        self._stack = _ForeachStack(foreach_stack, objects)
        self._flow: Any = None

    def attach(self, flow: Any) -> None:
        self._flow = flow

    def load_artifact(self, name: str) -> Any:
        reference = self.artifacts.get(name)
        if reference is None:
            raise AttributeError(f"input {self.pathspec} has no artifact {name!r}")
        value = self.objects.load_value(reference)
        if self._flow is not None:
            self._flow.__dict__[name] = value  # read once per input
        return value

    def record_next(self, targets: tuple[Any, ...], foreach: str | None, condition: str | None) -> None:
        raise StepFailure("self.next() cannot be called on a join input")

    def foreach_input(self) -> Any:
        return self._stack.top_value()

    def foreach_index(self) -> int | None:
        return self._stack.top_index()

    def foreach_stack(self) -> list[tuple[int, int, Any]]:
        return self._stack.as_tuples()

    def merge_artifacts(self, flow: Any, inputs: Any, exclude: list[str], include: list[str]) -> None:
        raise StepFailure("merge_artifacts() cannot be called on a join input")


class Inputs:
    """A join's ``inputs``: iterable in input order (foreach index order), ``len()``, ``inputs[i]``,
    and ``inputs.<step>`` for the branches of a static split."""

    def __init__(self, items: Sequence[Any], steps: Sequence[str]) -> None:
        self._items = list(items)
        self._by_step = dict(zip(steps, self._items, strict=True)) if steps else {}

    def __iter__(self) -> Iterator[Any]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index: int) -> Any:
        return self._items[index]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._by_step[name]
        except KeyError:
            raise AttributeError(
                f"join inputs have no step {name!r} (inputs come from: {', '.join(sorted(self._by_step))})"
            ) from None

    def contexts(self) -> list[InputContext]:
        return [item.__dict__[CONTEXT_ATTRIBUTE] for item in self._items]


class StepContext:
    """The context of the task being run.

    Args:
        step: the IR step.
        pathspec: the task's pathspec (for messages).
        inherited: artifact references visible before the step runs (parent's artifacts for a
            linear step; parameters for a join and for the start task).
        foreach_stack: the task's foreach stack entries.
        objects: the object store.
        flow_file: the flow file's name for messages (``file:line``).
    """

    def __init__(
        self,
        step: Step,
        pathspec: str,
        inherited: Mapping[str, Mapping[str, Any]],
        foreach_stack: Sequence[Mapping[str, Any]],
        objects: ObjectStore,
    ) -> None:
        self.step = step
        self.pathspec = pathspec
        self.inherited: dict[str, Mapping[str, Any]] = dict(inherited)
        self.objects = objects
        self.stack = _ForeachStack(foreach_stack, objects)
        #: name -> reference of inherited artifacts the step read (re-serialised at the end: mutations
        #: count; an unchanged value keeps its reference).
        self.loaded: dict[str, Mapping[str, Any]] = {}
        self.next_call: NextCall | None = None
        self._flow: Any = None

    def attach(self, flow: Any) -> None:
        self._flow = flow

    # ---- artifacts -----------------------------------------------------------------------
    def load_artifact(self, name: str) -> Any:
        reference = self.inherited.get(name)
        if reference is None:
            if self.step.is_join:
                raise AttributeError(
                    f"{self.pathspec}: join step {self.step.name!r} has no artifact {name!r}: read it "
                    "from `inputs`, or call self.merge_artifacts(inputs) first"
                )
            raise AttributeError(
                f"{self.pathspec}: no artifact {name!r} (neither step {self.step.name!r} nor an earlier "
                "step set it)"
            )
        value = self.objects.load_value(reference)
        self.loaded[name] = reference
        if self._flow is not None:
            # Kept on the instance: later reads are plain attribute reads, and an in-place change
            # (self.items.append(...)) is persisted when the step ends.
            self._flow.__dict__[name] = value
        return value

    # ---- transitions ---------------------------------------------------------------------
    def where(self) -> str:
        location = self.step.transition_location or self.step.location
        return f" at {location}" if location is not None else ""

    def record_next(self, targets: tuple[Any, ...], foreach: str | None, condition: str | None) -> None:
        if self.next_call is not None:
            raise StepFailure(f"step {self.step.name!r}{self.where()} calls self.next() more than once")
        cases: tuple[tuple[str, str], ...] = ()
        # A step (a bound method) is callable: the ABC check, whose cache a forked task builds
        # anew, is made only for a switch's mapping.
        if len(targets) == 1 and not callable(targets[0]) and isinstance(targets[0], Mapping):
            cases = tuple((str(key), _target_name(value)) for key, value in targets[0].items())
            names = tuple(target for _, target in cases)
        else:
            names = tuple(_target_name(target) for target in targets)
        call = NextCall(names, foreach, condition, cases)
        self._check_next(call)
        self.next_call = call

    def _check_next(self, call: NextCall) -> None:
        step = self.step
        shown = ", ".join(call.targets)
        if step.transition == "end":
            raise StepFailure(
                f"step {step.name!r}{self.where()} is the end step: it cannot call self.next({shown})"
            )
        if step.transition == "switch":
            expected = tuple((case.key, case.target) for case in step.switch_cases)
            ok = call.condition == step.condition and sorted(call.cases) == sorted(expected)
            described = f"a switch on {step.condition!r} over {dict(expected)}"
        elif step.transition == "foreach":
            ok = (
                call.foreach == step.foreach_var
                and call.targets == tuple(step.successors)
                and not call.cases
            )
            described = f"a foreach over {step.foreach_var!r} into {', '.join(step.successors)}"
        elif step.transition == "split":
            ok = (
                sorted(call.targets) == sorted(step.successors)
                and call.foreach is None
                and call.condition is None
                and not call.cases
            )
            described = f"a split into {', '.join(step.successors)}"
        else:
            ok = (
                call.targets == tuple(step.successors)
                and call.foreach is None
                and call.condition is None
                and not call.cases
            )
            described = f"a transition to {', '.join(step.successors)}"
        if not ok:
            argument = f"{dict(call.cases)}" if call.cases else shown
            extra = f", foreach={call.foreach!r}" if call.foreach else ""
            extra += f", condition={call.condition!r}" if call.condition else ""
            raise StepFailure(
                f"step {step.name!r}{self.where()} calls self.next({argument}{extra}) but the flow's graph "
                f"has {described}"
            )

    # ---- foreach -------------------------------------------------------------------------
    def foreach_input(self) -> Any:
        return self.stack.top_value()

    def foreach_index(self) -> int | None:
        return self.stack.top_index()

    def foreach_stack(self) -> list[tuple[int, int, Any]]:
        return self.stack.as_tuples()

    def foreach_frames(self) -> list[tuple[str, int, int, Any]]:
        return self.stack.frames()

    # ---- joins ---------------------------------------------------------------------------
    def merge_artifacts(self, flow: Any, inputs: Any, exclude: list[str], include: list[str]) -> None:
        # Metaflow's exception types (flowc.exception), so a step can catch them; imported only
        # here, since the module pulls in the client.
        from flowc import exception

        if not self.step.is_join or not isinstance(inputs, Inputs):
            raise exception.FlowRuleBroken(
                f"step {self.step.name!r}: merge_artifacts(inputs) works only in a join step, with its inputs"
            )
        if exclude and include:
            raise exception.FlowRuleBroken(
                f"step {self.step.name!r}: merge_artifacts takes include or exclude, not both"
            )
        contexts = inputs.contexts()
        seen: dict[str, dict[str, Mapping[str, Any]]] = {}
        for context in contexts:
            for name, reference in context.artifacts.items():
                if not name.startswith(PRIVATE_PREFIX):
                    seen.setdefault(name, {})[reference["sha"]] = reference
        assigned = {name for name in flow.__dict__ if not name.startswith(PRIVATE_PREFIX)}
        if include:
            # As in Metaflow, a name the join already set is not missing: the join's value wins.
            missing = sorted(set(include) - set(seen) - assigned)
            if missing:
                raise exception.MissingInMergeArtifactsException(
                    f"step {self.step.name!r}: merge_artifacts(include=...) names artifact(s) no input has: "
                    f"{', '.join(missing)}",
                    missing,
                )
            candidates = set(include) & set(seen)
        else:
            candidates = set(seen) - set(exclude)
        conflicts = sorted(
            name for name in candidates if name not in assigned and len(seen[name]) > 1
        )
        if conflicts:
            raise exception.UnhandledInMergeArtifactsException(
                f"step {self.step.name!r}: merge_artifacts: the inputs disagree on artifact(s) "
                f"{', '.join(conflicts)}; set them in the join or pass exclude=[...]",
                conflicts,
            )
        for name in sorted(candidates - assigned):
            self.inherited[name] = next(iter(seen[name].values()))


def _target_name(target: Any) -> str:
    if isinstance(target, str):
        return target
    name = getattr(target, "__name__", None)
    if name is None:
        raise StepFailure(f"self.next() takes steps such as self.end, not {target!r}")
    return str(name)
