"""``--with NAME[:KEY=VALUE,...]``: a decorator added to every step at run, compile or deploy time.

Metaflow's ``run --with retry:times=3`` (``_attach_decorators_to_step``): a step that has the
decorator already keeps its own; the others get it as if written above them. Here it is lowered
once, into the IR's step fields, so every target and the local runtime see the same steps; the
specs also travel in :attr:`flowc.ir.FlowIR.with_decorators`, and every task gets them in its
environment (:data:`WITH_ENV`), because the task runner builds its IR from the flow's source and
acts on ``@catch``, ``@timeout`` and ``@environment`` itself.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from flowc.frontend.decorators import EvaluatedDecorator, step_settings
from flowc.ir import ContainerSpec, FlowIR, Resources, Step

__all__ = [
    "WITH_DECORATORS",
    "WITH_ENV",
    "DecospecError",
    "apply_decospecs",
    "parse_decospec",
    "specs_from_environment",
    "with_environment",
]

#: The environment variable carrying a run's ``--with`` specs to its tasks (a JSON list).
WITH_ENV = "FLOWC_WITH_DECORATORS"
#: The decorators ``--with`` may add.
WITH_DECORATORS = ("retry", "catch", "timeout", "resources", "environment", "secrets", "kubernetes", "batch")
#: Decorators that say where a task runs: meaningful for a deployment, not for `flowc run`.
_PLACEMENT = ("kubernetes", "batch")


class DecospecError(ValueError):
    """A ``--with`` spec flowc cannot apply (unknown decorator, malformed or invalid arguments)."""


def parse_decospec(text: str) -> EvaluatedDecorator:
    """``retry:times=3,minutes_between_retries=0`` -> the decorator and its arguments.

    Values are read as Metaflow reads them (``StepDecorator.parse_decorator_spec``): JSON, else an
    int, else a float, else the text itself; a ``,`` separates arguments only before ``name=``.
    """
    name, _, spec = text.strip().partition(":")
    name = name.strip()
    if not name.isidentifier():
        raise DecospecError(f"--with {text!r}: expected NAME or NAME:KEY=VALUE,...")
    arguments: dict[str, Any] = {}
    if spec.strip():
        for item in re.split(r",(?=[\s\w]+=)", spec):
            key, equals, value = item.partition("=")
            if not equals or not key.strip().isidentifier():
                raise DecospecError(f"--with {text!r}: {item!r} is not KEY=VALUE")
            arguments[key.strip()] = _value(value.strip())
    return EvaluatedDecorator(name, arguments, 0)


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        pass
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            continue
    return text


def apply_decospecs(ir: FlowIR, specs: Sequence[str], *, local_run: bool = False) -> FlowIR:
    """``ir`` with each spec's decorator added to every step that does not have it already.

    Args:
        ir: the flow.
        specs: ``--with`` values, in the order given.
        local_run: for ``flowc run``, which runs every task on this machine: placement decorators
            (``kubernetes``, ``batch``) are refused rather than ignored.

    Raises:
        DecospecError: one line naming the spec and what is wrong.
    """
    from flowc.authoring.decorators import UNSUPPORTED_DECORATORS

    new = [s for s in dict.fromkeys(s.strip() for s in specs) if s and s not in ir.with_decorators]
    if not new:
        return ir
    steps = list(ir.steps)
    for text in new:
        decorator = parse_decospec(text)
        name = decorator.name
        if name in UNSUPPORTED_DECORATORS:
            raise DecospecError(
                f"--with {name}: a Metaflow decorator flowc does not support (yet); "
                f"{UNSUPPORTED_DECORATORS[name]}"
            )
        if name not in WITH_DECORATORS:
            raise DecospecError(
                f"--with {name}: unknown step decorator; --with takes {', '.join(WITH_DECORATORS)}"
            )
        if local_run and name in _PLACEMENT:
            raise DecospecError(
                f"--with {name}: `flowc run` runs every task on this machine; give --with {name} to "
                "`flowc compile` or `flowc deploy`"
            )
        settings, problems = step_settings([decorator])
        errors = [p for p in problems if p.severity == "error"]
        ignored = [p for p in problems if p.severity != "error"]
        if errors or ignored:
            problem = (errors or ignored)[0]
            hint = f" ({problem.hint})" if problem.hint else ""
            raise DecospecError(f"--with {text}: {problem.message}{hint}")
        steps = [_added(step, name, settings) for step in steps]
    return dataclasses.replace(ir, steps=tuple(steps), with_decorators=(*ir.with_decorators, *new))


def _added(step: Step, name: str, settings: Any) -> Step:
    """``step`` with ``name``'s settings where the step has none of its own (its own win)."""
    changes: dict[str, Any] = {}
    if name == "retry" and step.retry is None:
        changes["retry"] = settings.retry
    elif name == "timeout" and step.timeout is None:
        changes["timeout"] = settings.timeout
    elif name == "catch" and step.catch is None and step.transition != "switch":
        # @catch cannot decorate a switch (a caught failure has no case to follow): not added there.
        changes["catch"] = settings.catch
    elif name == "environment" and not step.environment:
        changes["environment"] = settings.environment
    elif name == "secrets" and not step.secrets:
        changes["secrets"] = settings.secrets
    elif name in ("resources", "kubernetes", "batch"):
        changes["resources"] = _fill(step.resources, settings.resources, Resources())
        changes["container"] = _fill(step.container, settings.container, ContainerSpec())
    return dataclasses.replace(step, **changes) if changes else step


def _fill(current: Any, added: Any, empty: Any) -> Any:
    """Fields of ``added`` where ``current`` still has the empty value: the step's own values win."""
    values = {}
    for field in dataclasses.fields(current):
        mine, theirs, unset = (getattr(x, field.name) for x in (current, added, empty))
        values[field.name] = theirs if mine == unset else mine
    return type(current)(**values)


def with_environment(ir: FlowIR) -> Mapping[str, str]:
    """The task environment carrying ``ir``'s ``--with`` specs (empty without any)."""
    return {WITH_ENV: json.dumps(list(ir.with_decorators))} if ir.with_decorators else {}


def specs_from_environment(environ: Mapping[str, str]) -> tuple[str, ...]:
    """The ``--with`` specs a task was given in :data:`WITH_ENV`."""
    raw = environ.get(WITH_ENV)
    if not raw:
        return ()
    try:
        specs = json.loads(raw)
    except ValueError:
        raise DecospecError(f"{WITH_ENV} is not a JSON list: {raw!r}") from None
    if not isinstance(specs, list) or not all(isinstance(s, str) for s in specs):
        raise DecospecError(f"{WITH_ENV} must be a JSON list of strings, not {raw!r}")
    return tuple(specs)
