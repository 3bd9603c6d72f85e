"""The checks: each a small named function that yields :class:`Diagnostic` for one kind of mistake.

:func:`run_checks` runs them all (and the data-flow check), so a flow's every problem is reported at
once, in file order. Codes are stable: tests, docs/authoring.md and users' scripts rely on them.
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Callable, Iterator

from flowc.diagnostics import Diagnostic, refuse
from flowc.frontend.analysis import Analysis
from flowc.frontend.body import NON_ARTIFACT_NAMES
from flowc.frontend.dataflow import check_data_flow
from flowc.frontend.decorators import Problem
from flowc.frontend.hierarchy import ClassRef, ModuleIndex, opaque_bases
from flowc.frontend.limits import check_name_limits, check_text_encodes
from flowc.frontend.source import pick_flow_class

__all__ = ["CHECKS", "RESERVED_PARAMETER_NAMES", "RESERVED_STEP_NAMES", "run_checks", "select_flow_class"]

#: Step names that would hide FlowSpec's own API (Metaflow reserves name, next, input, index, cmd).
RESERVED_STEP_NAMES = frozenset(NON_ARTIFACT_NAMES | {"cmd"})
#: Parameter names taken by the run command line (``flowc run --tag ...``) or Metaflow's.
RESERVED_PARAMETER_NAMES = frozenset(
    {
        "params", "with", "tag", "tags", "namespace", "obj", "run-id", "run_id", "task-id", "task_id",
        "max-workers", "max_workers", "max-num-splits", "max_num_splits", "datastore", "decospecs",
        "user-namespace", "origin-run-id", "params-file", "params_file", "help",
    }
)

Check = Callable[[Analysis], Iterator[Diagnostic]]


def select_flow_class(index: ModuleIndex) -> tuple[ast.ClassDef | None, list[Diagnostic]]:
    """The file's flow class, or a diagnostic saying why there is none."""
    file = index.flow_path.name
    chosen, candidates = pick_flow_class(index)
    if chosen is not None:
        return chosen, []
    if not candidates:
        unread = [
            f"{node.name}({', '.join(opaque)})"
            for node in index.flow_module.body
            if isinstance(node, ast.ClassDef)
            and (opaque := opaque_bases(index.linearize(ClassRef(node, index.flow_path.resolve()))))
        ]
        hint = "define `class MyFlow(FlowSpec):` with @step methods"
        if unread:
            hint += (f"; flowc could not read the base classes of {', '.join(unread)} (they are read from "
                     "this file and from modules beside it)")
        return None, [refuse("no-flow", "no FlowSpec subclass in this file", file=file, line=1, hint=hint)]
    names = ", ".join(c.name for c in candidates)
    return None, [
        refuse("ambiguous-flow", f"several FlowSpec subclasses ({names}); cannot tell which is the flow",
               file=file, line=candidates[1].lineno,
               hint="keep one flow per file, or instantiate it under `if __name__ == '__main__':`")
    ]


def _line(a: Analysis, step: str) -> int | None:
    source = a.step_sources.get(step)
    return source.line if source else None


def _from_problem(a: Analysis, problem: Problem, step: str | None, file: str | None = None) -> Diagnostic:
    return a.refuse(problem.code, problem.message, problem.line, step, problem.hint, problem.severity,
                       file)


# ---- steps and signatures ------------------------------------------------------------------
def check_start_and_end(a: Analysis) -> Iterator[Diagnostic]:
    names = set(a.step_names)
    unread = ""
    if a.flow.opaque_bases:
        unread = (f"; flowc could not read the base class(es) {', '.join(a.flow.opaque_bases)}, which "
                  "may define it (bases are read from this file and from modules beside it)")
    for required, hint in (
        ("start", "every flow begins with `@step def start(self)`"),
        ("end", "every flow finishes with `@step def end(self)`"),
    ):
        if required not in names:
            yield a.refuse(f"missing-{required}", f"the flow has no '{required}' step", a.flow.line,
                              hint=hint + unread, file=a.file)


def check_duplicate_steps(a: Analysis) -> Iterator[Diagnostic]:
    for method in a.flow.redefined:
        yield a.refuse("duplicate-step",
                          f"'{method.name}' is defined twice in class {method.owner}; the later one wins",
                          method.line, method.name, hint="rename one of them", file=method.file)


def check_reserved_step_names(a: Analysis) -> Iterator[Diagnostic]:
    for step in a.flow.steps:
        if step.name in RESERVED_STEP_NAMES:
            reserved = ", ".join(sorted(RESERVED_STEP_NAMES))
            yield a.refuse("reserved-step-name", f"'{step.name}' is reserved by FlowSpec", step.line,
                              step.name, hint=f"rename the step (reserved: {reserved})")


def check_step_signatures(a: Analysis) -> Iterator[Diagnostic]:
    for step in a.flow.steps:
        args = step.arg_names
        if step.has_varargs or not 1 <= len(args) <= 2 or isinstance(step.node, ast.AsyncFunctionDef):
            yield a.refuse("bad-signature", f"a step takes (self) or, for a join, (self, inputs); "
                              f"this one takes ({', '.join(args)})", step.line, step.name,
                              hint=f"def {step.name}(self) or def {step.name}(self, inputs)")
        elif len(args) == 2 and step.name in ("start", "end"):
            yield a.refuse("bad-signature", f"'{step.name}' cannot be a join", step.line, step.name,
                              hint=f"def {step.name}(self); put a join step "
                              f"{'before end' if step.name == 'end' else 'after the split'}")


# ---- transitions ---------------------------------------------------------------------------
def check_next_calls(a: Analysis) -> Iterator[Diagnostic]:
    for step in a.flow.steps:
        calls = step.body.next_calls
        if step.name == "end":
            for call in calls:
                yield a.refuse("end-has-next", "the end step cannot call self.next()", call.lineno,
                                  step.name, hint="remove the self.next() call")
            continue
        if not calls:
            yield a.refuse("missing-next", "the step never calls self.next()", step.line, step.name,
                              hint="end the step with self.next(self.<next step>)")
        elif len(calls) > 1:
            lines = ", ".join(str(c.lineno) for c in calls)
            yield a.refuse("multiple-next", f"self.next() is called {len(calls)} times (lines {lines})",
                              calls[1].lineno, step.name,
                              hint="call self.next() once, as the last statement; "
                              "use a switch (self.next({...}, condition=...)) to choose at run time")
        else:
            last = step.node.body[-1]
            is_last = (
                isinstance(last, ast.Expr) and isinstance(last.value, ast.Call) and last.value is calls[0]
            )
            if not is_last:
                yield a.refuse("next-not-last", "self.next() must be the last statement of the step",
                                  calls[0].lineno, step.name,
                                  hint="move self.next(...) to the end of the step body")


def check_malformed_next(a: Analysis) -> Iterator[Diagnostic]:
    for name, (line, message) in a.transition_errors.items():
        yield a.refuse("bad-next", message, line, name,
                          hint="see docs/authoring.md, 'Transitions'")


def check_successors(a: Analysis) -> Iterator[Diagnostic]:
    steps = set(a.step_names)
    plain = {m.name for m in a.flow.methods if not m.is_step}
    for name, transition in a.transitions.items():
        for target in dict.fromkeys(transition.targets):
            if target in steps:
                continue
            if target in plain:
                yield a.refuse("successor-not-step", f"'{target}' is a plain method, not a step",
                                  transition.line, name, hint=f"decorate '{target}' with @step")
            else:
                close = difflib.get_close_matches(target, sorted(steps), n=1)
                hint = f"did you mean '{close[0]}'? " if close else ""
                yield a.refuse("unknown-successor", f"self.next() names '{target}', which is no step",
                                  transition.line, name,
                                  hint=f"{hint}steps are: {', '.join(sorted(steps))}")


# ---- graph shape ---------------------------------------------------------------------------
def check_cycles(a: Analysis) -> Iterator[Diagnostic]:
    assert a.graph is not None
    for tail, head in sorted(a.graph.back_edges):
        transition = a.transitions.get(tail)
        if transition is not None and transition.kind != "switch":
            yield a.refuse("cycle", f"going to '{head}' makes a cycle", transition.line, tail,
                              hint="only a switch case may jump back to an earlier step (a loop)")


def check_unreachable(a: Analysis) -> Iterator[Diagnostic]:
    assert a.graph is not None
    if "start" not in a.step_names:
        return
    if any(n not in a.transitions and n != "end" for n in a.graph.reachable):
        return  # a step whose transition is missing or malformed hides what it leads to
    steps = set(a.step_names)
    if any(t not in steps for n in a.graph.reachable for t in a.successors(n)):
        return  # a misspelt successor hides the step it meant: unknown-successor says so
    for step in a.flow.steps:
        if step.name not in a.graph.reachable:
            yield a.refuse("unreachable-step", "no path from start reaches this step", step.line,
                              step.name, hint="name it in some self.next(...), or delete it")


_FINDING_TEXT: dict[str, tuple[str, str]] = {
    "split-without-join": (
        "the branches started here never meet in a join (reached {related})",
        "add a join step, `def join(self, inputs)`, where the branches meet",
    ),
    "join-missing-inputs": (
        "the branches of '{related0}' meet here, so this step is a join, but it takes no `inputs`",
        "declare it as `def {step}(self, inputs)`",
    ),
    "join-without-split": (
        "this step takes `inputs` (a join) but no split or foreach comes before it",
        "remove the `inputs` argument, or put a split before it",
    ),
    "join-mismatch": (
        "this join does not close exactly the branches of one split ({related})",
        "every branch of a split (or the body of a foreach) must lead to the same join, once",
    ),
}


def check_split_join(a: Analysis) -> Iterator[Diagnostic]:
    assert a.graph is not None
    seen: set[tuple[str, str, tuple[str, ...]]] = set()
    for finding in a.graph.findings:
        key = (finding.code, finding.step, finding.related)
        if key in seen:
            continue
        seen.add(key)
        message, hint = _FINDING_TEXT[finding.code]
        opener = a.transitions.get(finding.related[0]) if finding.related else None
        if finding.code == "join-missing-inputs" and opener is not None and opener.kind == "foreach":
            message = "the foreach '{related0}' ends here, so this step is its join, but it takes no `inputs`"
        related = ", ".join(finding.related) or "-"
        fill = {"related": related, "related0": finding.related[0] if finding.related else "-",
                "step": finding.step}
        hint = hint.format(**fill)
        if finding.alternatives:
            others = " or ".join(f"'{n}'" for n in finding.alternatives)
            hint += f"; or, if the join is meant to be {others}, give that step `inputs` instead"
        yield a.refuse(finding.code, message.format(**fill), _line(a, finding.step), finding.step,
                          hint)


def check_loop_bodies(a: Analysis) -> Iterator[Diagnostic]:
    assert a.graph is not None
    for (tail, head), body in sorted(a.graph.loop_bodies.items()):
        for name in body:
            transition = a.transitions.get(name)
            source = a.step_sources.get(name)
            opens = transition is not None and transition.kind in ("split", "foreach")
            if opens or (source is not None and len(source.arg_names) >= 2):
                what = transition.kind if opens and transition else "join"
                yield a.refuse(
                    "loop-contains-split",
                    f"this {what} is inside the loop from '{head}' back from '{tail}'", _line(a, name), name,
                    hint="loops may not contain a split, foreach or join (task ids need that, see "
                    "docs/architecture.md); move the fan-out before or after the loop",
                )


def check_catch_on_switch(a: Analysis) -> Iterator[Diagnostic]:
    for name, settings in a.settings.items():
        transition = a.transitions.get(name)
        if settings.catch is not None and transition is not None and transition.kind == "switch":
            yield a.refuse("catch-on-switch", "@catch cannot decorate a switch step",
                              settings.catch_line, name,
                              hint="a caught failure has no case to follow; compute the condition in a "
                              "step before the switch and put @catch there")


def check_foreach_variables(a: Analysis) -> Iterator[Diagnostic]:
    from flowc.frontend.dataflow import availability

    assert a.graph is not None
    always = a.parameter_attributes() | set(a.flow.class_attributes)
    for name, transition in a.transitions.items():
        variable = transition.foreach
        if variable is None or name not in a.graph.reachable or variable in always:
            continue
        source = a.step_sources.get(name)
        if source is not None and variable in source.body.assigns:
            continue
        if not availability(a, name, variable).may:
            # A computed attribute name or an unreadable base class might provide it: warn only.
            unsure = (source is not None and source.body.dynamic_assigns) or bool(a.flow.opaque_bases)
            yield a.refuse("foreach-var-unassigned",
                              f"foreach over '{variable}', which no step before it assigns",
                              transition.line, name,
                              hint=f"assign self.{variable} = [...] in this step or an earlier one",
                              severity="warning" if unsure else "error")


# ---- parameters and decorators ---------------------------------------------------------------
def _option_key(name: str) -> str:
    # Metaflow's rule: parameter names are case-insensitive, and `-` and `_` are the same option.
    return name.lower().replace("-", "_")


_CONFIG_OPTIONS = frozenset({"config", "config-value", "config_value"})


def check_parameters(a: Analysis) -> Iterator[Diagnostic]:
    for problem, file in a.parameter_problems:
        yield _from_problem(a, problem, None, file)
    seen: dict[str, tuple[str, int, str]] = {}
    shadowing = set(NON_ARTIFACT_NAMES) | a.method_names()
    for source, spec in a.parameter_specs:
        line, file = source.line, source.file or a.file
        key = _option_key(spec.name)
        if key in seen:
            first_name, first_line, first_file = seen[key]
            where = f"line {first_line}" if first_file == file else f"{first_file}:{first_line}"
            same = "" if first_name == spec.name else f" (as '{first_name}': names ignore case, - and _)"
            yield a.refuse("parameter-duplicate",
                              f"parameter '{spec.name}' is declared twice{same} (first on {where})",
                              line, hint="give each parameter its own name", file=file)
        seen.setdefault(key, (spec.name, line, file))
        # A flow with configs takes --config and --config-value on its run command line.
        reserved = RESERVED_PARAMETER_NAMES | (_CONFIG_OPTIONS if a.flow.configs else frozenset())
        if spec.name in reserved or source.attribute in reserved:
            yield a.refuse("parameter-reserved",
                              f"parameter name '{spec.name}' is reserved by the run command line",
                              line, hint="rename the parameter", file=file)
        # Only the class attribute can be shadowed: it is what steps read and the artifact's name (as
        # in Metaflow's FlowSpec._set_constants). The parameter's name is only its command-line
        # option, so `train_param = Parameter("train")` beside `def train` is fine.
        if source.attribute in shadowing:
            what = "a step or method" if source.attribute in a.method_names() else "FlowSpec's own API"
            yield a.refuse("parameter-shadowed",
                              f"parameter attribute '{source.attribute}' would be silently shadowed by "
                              f"{what}", line, hint="rename the class attribute", file=file)


def check_parameter_assignments(a: Analysis) -> Iterator[Diagnostic]:
    attributes = a.parameter_attributes()
    for step in a.flow.steps:
        for name, line in step.body.assigns.items():
            # Inside `try: ... except AttributeError:` the step expects the assignment to be
            # refused (it is: parameters are read-only at run time, as in Metaflow).
            if name in attributes and name not in step.body.guarded_assigns:
                via = step.body.assigned_via.get(name)
                how = f" (in helper self.{via}())" if via else ""
                yield a.refuse("parameter-assigned", f"assigns parameter '{name}'{how}", line,
                                  step.name,
                                  hint="parameters are read-only; store the new value under another name")


def check_configs(a: Analysis) -> Iterator[Diagnostic]:
    """Configs without a value, unreadable files, failing parsers, expressions that do not evaluate."""
    for problem, file in a.config_problems:
        yield _from_problem(a, problem, None, file)


def check_decorators(a: Analysis) -> Iterator[Diagnostic]:
    for name, problems in a.decorator_problems.items():
        for problem in problems:
            yield _from_problem(a, problem, name or None, problem.file)


def check_exit_hooks(a: Analysis) -> Iterator[Diagnostic]:
    """An exit hook is found by name in the flow's module when the run ends: it must be bound there."""
    hooks = a.flow_settings.exit_hooks
    if hooks is None:
        return
    for name in dict.fromkeys((*hooks.on_success, *hooks.on_error)):
        if name not in a.flow.own_names:
            message = f"@exit_hook: {name!r} is not a function of the flow's module"
            hint = "define the function at the top level of the flow file (or import it there)"
            yield a.refuse("unknown-exit-hook", message, hooks.line, file=a.file, hint=hint)


def check_trigger_parameters(a: Analysis) -> Iterator[Diagnostic]:
    """``@trigger(parameters={...})`` maps payload fields onto parameters the flow declares."""
    declared = {spec.name for spec in a.parameters}
    for trigger in a.flow_settings.triggers:
        for parameter, _ in trigger.parameters:
            if parameter not in declared:
                close = difflib.get_close_matches(parameter, sorted(declared), n=1)
                message = f"@trigger: event {trigger.name!r} sets {parameter!r}, not a Parameter of the flow"
                hint = f"did you mean {close[0]!r}?" if close else "declare it with Parameter(...)"
                code = "unknown-trigger-parameter"
                yield a.refuse(code, message, trigger.line, file=a.file, hint=hint)


CHECKS: tuple[Check, ...] = (
    check_configs,
    check_start_and_end,
    check_duplicate_steps,
    check_reserved_step_names,
    check_step_signatures,
    check_next_calls,
    check_malformed_next,
    check_successors,
    check_cycles,
    check_unreachable,
    check_split_join,
    check_loop_bodies,
    check_catch_on_switch,
    check_foreach_variables,
    check_parameters,
    check_parameter_assignments,
    check_decorators,
    check_exit_hooks,
    check_trigger_parameters,
    check_data_flow,
    check_name_limits,
    check_text_encodes,
)


def run_checks(a: Analysis) -> list[Diagnostic]:
    """Every diagnostic of every check, in file order (errors before warnings on one line)."""
    found: list[Diagnostic] = []
    seen: set[Diagnostic] = set()
    for check in CHECKS:
        for diagnostic in check(a):
            if diagnostic not in seen:
                seen.add(diagnostic)
                found.append(diagnostic)
    return sorted(found, key=lambda d: (d.line or 0, d.severity != "error"))

