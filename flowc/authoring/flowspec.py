"""``FlowSpec``: the base class of every flow.

The class only forwards to a *task context* that the task runner attaches to the instance
(``_flowc_ctx``); see :class:`TaskContext` for the contract. Writing ``self.x = value`` in a step
sets an ordinary attribute, which the task runner persists as an artifact when the step returns;
reading ``self.x`` that the step did not set falls through ``__getattr__`` to the context, which
loads the artifact lazily from the parent task(s).

Instantiating the class outside the task runner (``if __name__ == "__main__": MyFlow()``) runs the
command line, so ``python flow.py run`` works as in Metaflow.
"""

from __future__ import annotations

import inspect
import sys
from types import FunctionType, MethodType
from typing import Any, NamedTuple, Protocol

__all__ = ["FlowSpec", "ForeachFrame", "TaskContext", "is_constant"]

CONTEXT_ATTRIBUTE = "_flowc_ctx"
#: Where the task runner puts the IR a task runs, for ``_graph`` (so no task runs the front end).
IR_ATTRIBUTE = "_flowc_ir"


class ForeachFrame(NamedTuple):
    """One enclosing foreach, as Metaflow's ``self._foreach_stack`` lists it."""

    step: str
    var: str | None
    num_splits: int
    index: int
    value: Any


class TaskContext(Protocol):
    """What the task runner provides to a running step (implemented in :mod:`flowc.task_runner`)."""

    def load_artifact(self, name: str) -> Any:
        """Value of an inherited artifact; raises AttributeError naming the step when there is none."""

    def record_next(self, targets: tuple[Any, ...], foreach: str | None, condition: str | None) -> None:
        """Records ``self.next(...)`` (checked against the IR's transition)."""

    def foreach_input(self) -> Any:
        """``self.input``: the item of the innermost foreach this task processes."""

    def foreach_index(self) -> int | None:
        """``self.index``: the index of that item."""

    def foreach_stack(self) -> list[tuple[int, int, Any]]:
        """``self.foreach_stack()``: (index, num_splits, value) from the outermost foreach inwards."""

    def foreach_frames(self) -> list[tuple[str, int, int, Any]]:
        """(foreach split step, index, num_splits, value), outermost first."""

    def merge_artifacts(self, flow: FlowSpec, inputs: Any, exclude: list[str], include: list[str]) -> None:
        """``self.merge_artifacts(inputs, ...)`` in a join."""


#: FlowSpec's own API and legacy members (Metaflow's ``_NON_PARAMETERS``): never constants.
_NOT_CONSTANTS = frozenset(
    {"cmd", "foreach_stack", "index", "input", "merge_artifacts", "name", "next", "script_name"}
)


def is_constant(cls: type, name: str) -> bool:
    """Whether ``name`` is a class-level constant of flow class ``cls``, which Metaflow persists as
    an artifact of the run and makes read-only (``FlowSpec._set_constants``): a name not starting
    with ``_``, not FlowSpec's API, whose value is not a parameter, function, method, property or class.
    """
    from flowc.authoring.parameters import Parameter

    if name.startswith("_") or name in _NOT_CONSTANTS:
        return False
    value = getattr(cls, name, _MISSING)
    return value is not _MISSING and not isinstance(
        value, Parameter | FunctionType | MethodType | property | type
    )


_MISSING = object()


class FlowSpec:
    """Base class of a flow: subclass it and decorate methods with ``@step``."""

    def __setattr__(self, name: str, value: Any) -> None:
        # As in Metaflow, parameters (Parameter.__set__) and class-level constants are read-only.
        if is_constant(type(self), name):
            raise AttributeError(
                f"Flow level attributes and Parameters are not modifiable: {name!r} is a class-level constant"
            )
        object.__setattr__(self, name, value)

    def __init__(self, use_cli: bool = True) -> None:
        if use_cli:
            from flowc.cli import main_for_flow_file

            sys.exit(main_for_flow_file(inspect.getfile(type(self)), sys.argv[1:], type(self).__name__))

    # ---- the graph (as Metaflow's FlowSpec offers it) -----------------------------------
    @property
    def _graph(self) -> Any:
        """Metaflow's ``FlowGraph`` view of this flow (:class:`flowc.authoring.graph.FlowGraph`)."""
        graph = self.__dict__.get("_flowc_graph")
        if graph is None:
            from flowc.authoring.graph import FlowGraph

            ir = self.__dict__.get(IR_ATTRIBUTE)  # a task's: the IR it runs (never the front end)
            if ir is None:
                from flowc.frontend import build_ir

                ir = build_ir(inspect.getfile(type(self)))
            graph = self.__dict__["_flowc_graph"] = FlowGraph(ir)
        return graph

    def __iter__(self) -> Any:
        """The step methods in graph order (each has ``.name``), as Metaflow's ``for step in flow``."""
        return iter([getattr(self, node.name) for node in self._graph])

    @property
    def _foreach_stack(self) -> list[ForeachFrame]:
        """Metaflow's private foreach frames (``step``, ``var``, ``num_splits``, ``index``, ``value``),
        outermost first, which flows read."""
        graph = self._graph
        return [
            ForeachFrame(step, graph[step].foreach_param, num_splits, index, value)
            for step, index, num_splits, value in self._flowc_context().foreach_frames()
        ]

    @property
    def _current_step(self) -> str | None:
        """The running step's name (Metaflow's private attribute, which flows read)."""
        from flowc.authoring.current import current

        return current.step_name

    # ---- artifacts -----------------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        # Only reached when normal lookup fails: an artifact inherited from the parent task(s).
        if name.startswith("__") or name in (CONTEXT_ATTRIBUTE, IR_ATTRIBUTE, "_flowc_graph"):
            raise AttributeError(name)
        return self._flowc_artifact(name)

    def _flowc_artifact(self, name: str) -> Any:
        context = self.__dict__.get(CONTEXT_ATTRIBUTE)
        if context is None:
            raise AttributeError(
                f"{type(self).__name__} has no attribute {name!r} (artifacts exist only while a task runs)"
            )
        return context.load_artifact(name)

    def _flowc_context(self) -> TaskContext:
        context = self.__dict__.get(CONTEXT_ATTRIBUTE)
        if context is None:
            raise RuntimeError("this method works only inside a running step (use `flowc run`)")
        return context

    # ---- transitions ---------------------------------------------------------------------
    def next(self, *targets: Any, foreach: str | None = None, condition: str | None = None) -> None:
        """Names the step(s) that run after this one (see docs/authoring.md for the forms)."""
        self._flowc_context().record_next(targets, foreach, condition)

    # ---- foreach and joins ---------------------------------------------------------------
    @property
    def input(self) -> Any:
        """The item of the innermost foreach that this task processes."""
        return self._flowc_context().foreach_input()

    @property
    def index(self) -> int | None:
        """The index of ``self.input`` in the foreach's list."""
        return self._flowc_context().foreach_index()

    def foreach_stack(self) -> list[tuple[int, int, Any]]:
        """(index, num_splits, value) of each enclosing foreach, outermost first."""
        return self._flowc_context().foreach_stack()

    def merge_artifacts(
        self, inputs: Any, exclude: list[str] | None = None, include: list[str] | None = None
    ) -> None:
        """Copies artifacts that all inputs agree on; a conflict raises, naming the artifacts."""
        self._flowc_context().merge_artifacts(self, inputs, list(exclude or []), list(include or []))

    @property
    def name(self) -> str:
        """The flow's name (its class name)."""
        return type(self).__name__
