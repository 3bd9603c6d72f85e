"""Checks of compiled documents: Argo's JSON schema in strict mode, and the semantics it cannot see.

The vendored schema (``schema/schema.json``, Argo v4.1.2; see ``schema/README.md``) is used in
strict mode: ``additionalProperties: false`` on every definition with ``properties`` (so a misspelt
field fails), and IntOrString / Quantity also accept numbers (as Kubernetes does). The semantic
checks cover what ``argo lint`` checks beyond the schema: templates and tasks named by references
exist, ``depends`` has no cycle, and every ``{{...}}`` tag resolves where it is used; plus flowc's
own rule that an expression reads a task's outputs only when that task surely ran.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

__all__ = ["WORKFLOW_KINDS", "schema_problems", "semantic_problems", "strict_schema"]

SCHEMA_FILE = Path(__file__).parent / "schema" / "schema.json"
_KIND_DEFINITIONS = {
    kind: f"io.argoproj.workflow.v1alpha1.{kind}"
    for kind in ("Workflow", "WorkflowTemplate", "CronWorkflow", "ClusterWorkflowTemplate")
}
#: The documents these checks are about (Argo Events' Sensor is not one).
WORKFLOW_KINDS = frozenset(_KIND_DEFINITIONS)
_TAG = re.compile(r"\{\{(.*?)\}\}", re.S)
_TASK_REF = re.compile(r"tasks\['([^']+)'\]\.(status|outputs\.parameters\.([A-Za-z0-9_-]+))")
_TASK_DOTTED = re.compile(r"tasks\.([A-Za-z0-9-]+)\.(status|outputs\.parameters\.([A-Za-z0-9_-]+))")
_PARAMETER_REF = re.compile(r"(workflow|inputs)\.parameters(?:\['([^']+)'\]|\.([A-Za-z0-9_-]+))")
_STRING = re.compile(r"'(?:[^'\\]|\\.)*'")
_IDENTIFIER = re.compile(r"(?<![.\w])([A-Za-z_]\w*)")
_EXPRESSION_NAMES = {
    "tasks",
    "workflow",
    "inputs",
    "jsonpath",
    "asInt",
    "asFloat",
    "toJson",
    "replace",
    "string",
    "true",
    "false",
    "nil",  # expr-lang's null (https://expr-lang.org/docs/language-definition#literals)
}
_DEPENDS_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9]*)(?:\.(\w+))?")
#: Task results ``depends`` may name (https://argo-workflows.readthedocs.io/en/latest/enhanced-depends-logic/).
_DEPENDS_RESULTS = {
    "Succeeded", "Failed", "Errored", "Skipped", "Omitted", "Daemoned", "AnySucceeded", "AllFailed",
}  # fmt: skip
#: Argo's name rules (pkg/apis/workflow/v1alpha1/validation_utils.go): templates and tasks, parameters.
_FIELD_NAME = re.compile(r"[a-zA-Z0-9][-a-zA-Z0-9]*")
_FIELD_NAME_MAX = 128
_PARAMETER_NAME = re.compile(r"[-a-zA-Z0-9_]+")


@functools.cache
def strict_schema() -> dict[str, Any]:
    """Argo's schema with ``additionalProperties: false`` everywhere and integer/number fixes."""
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    for name, definition in schema["definitions"].items():
        if "properties" in definition:
            definition.setdefault("additionalProperties", False)
        if name == "io.k8s.apimachinery.pkg.util.intstr.IntOrString":
            definition["type"] = ["string", "integer"]
        if name == "io.k8s.apimachinery.pkg.api.resource.Quantity":
            definition["type"] = ["string", "number"]
    return schema


def schema_problems(document: Mapping[str, Any]) -> list[str]:
    """Every strict-schema violation of ``document`` (empty when valid)."""
    from jsonschema import Draft202012Validator

    schema = strict_schema()
    definition = _KIND_DEFINITIONS.get(str(document.get("kind")))
    if definition is None:
        return [f"unknown kind {document.get('kind')!r}"]
    root = {
        "$schema": schema["$schema"],
        "definitions": schema["definitions"],
        "$ref": f"#/definitions/{definition}",
    }
    validator = Draft202012Validator(root)
    return sorted(
        f"{'/'.join(str(p) for p in error.absolute_path)}: {error.message}"
        for error in validator.iter_errors(document)
    )


# ---- semantics ------------------------------------------------------------------------------
def _depends_names(task: Mapping[str, Any]) -> list[tuple[str, str | None]]:
    expression = task.get("depends") or " && ".join(task.get("dependencies", []))
    return [(m.group(1), m.group(2)) for m in _DEPENDS_NAME.finditer(expression)]


def _tagged_strings(value: Any, where: str) -> Iterator[tuple[str, str]]:
    """(path, text) of every string under ``value`` that holds a tag start ``{{`` (the others
    have nothing to check, and skipping them keeps the compile-time lint cheap)."""
    if isinstance(value, str):
        if "{{" in value:
            yield where, value
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _tagged_strings(item, f"{where}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _tagged_strings(item, f"{where}.{key}")


def _references(text: str) -> Iterator[tuple[str, bool]]:
    """(tag body, is expression) of every tag in ``text``."""
    for match in _TAG.finditer(text):
        body = match.group(1)
        yield (body[1:], True) if body.startswith("=") else (body.strip(), False)


class _Checker:
    def __init__(self, document: Mapping[str, Any]) -> None:
        self.spec = document.get("spec", {})
        self.templates = {t["name"]: t for t in self.spec.get("templates", [])}
        self.parameters = {p["name"] for p in self.spec.get("arguments", {}).get("parameters", [])}
        self.problems: list[str] = []

    def problem(self, text: str) -> None:
        self.problems.append(text)

    def outputs_of(self, template_name: str) -> set[str]:
        template = self.templates.get(template_name, {})
        return {p["name"] for p in template.get("outputs", {}).get("parameters", [])}

    def inputs_of(self, template_name: str) -> dict[str, bool]:
        template = self.templates.get(template_name, {})
        return {p["name"]: "value" in p for p in template.get("inputs", {}).get("parameters", [])}

    # -- tags --
    def check_names(self) -> None:
        names = [t.get("name", "") for t in self.spec.get("templates", [])]
        for name in sorted({n for n in names if names.count(n) > 1}):
            self.problem(f"template {name!r} is defined more than once")
        for template in self.spec.get("templates", []):
            tasks = [t.get("name", "") for t in template.get("dag", {}).get("tasks", [])]
            for name in [template.get("name", ""), *tasks]:
                if not _FIELD_NAME.fullmatch(name) or len(name) > _FIELD_NAME_MAX:
                    self.problem(f"{name!r} is not a valid template or task name")
            parameters = [
                *template.get("inputs", {}).get("parameters", []),
                *template.get("outputs", {}).get("parameters", []),
            ]
            for parameter in parameters:
                if not _PARAMETER_NAME.fullmatch(parameter.get("name", "")):
                    name = parameter.get("name")
                    self.problem(f"template {template.get('name')}: {name!r} is no parameter name")
        arguments = [p.get("name", "") for p in self.spec.get("arguments", {}).get("parameters", [])]
        for name in arguments:
            if not _PARAMETER_NAME.fullmatch(name):
                self.problem(f"workflow parameter {name!r} is no parameter name")
        for name in sorted({n for n in arguments if arguments.count(n) > 1}):
            self.problem(f"workflow parameter {name!r} is declared more than once")

    def check_text(
        self,
        where: str,
        text: str,
        *,
        inputs: set[str],
        tasks: Mapping[str, str] | None = None,
        item: bool = False,
        retries: bool = False,
        surely_ran: set[str] | frozenset[str] = frozenset(),
    ) -> None:
        tasks = tasks or {}
        if "{{" in _TAG.sub("", text):
            # Argo's template scanner (fasttemplate) fails on a start tag without an end tag.
            self.problem(f"{where}: '{{{{' without a matching '}}}}'")
        for body, is_expression in _references(text):
            if is_expression:
                self.check_expression(where, body, inputs=inputs, tasks=tasks, surely_ran=surely_ran)
                continue
            if body in ("workflow.name", "workflow.namespace", "workflow.uid") or (body == "item" and item):
                continue
            if body == "workflow.status" and where.startswith(f"template {self.spec.get('onExit')}."):
                continue  # set when the exit handler runs
            if body == "retries" and retries:
                continue
            match = _PARAMETER_REF.fullmatch(body)
            if match:
                self.check_parameter(where, match, inputs)
                continue
            match = _TASK_DOTTED.fullmatch(body)
            if match:
                self.check_task_ref(where, match.group(1), match.group(3), tasks, surely_ran, guarded=False)
                continue
            self.problem(f"{where}: {{{{{body}}}}} does not resolve here")

    def check_parameter(self, where: str, match: re.Match[str], inputs: set[str]) -> None:
        scope, name = match.group(1), match.group(2) or match.group(3)
        known = self.parameters if scope == "workflow" else inputs
        if name not in known:
            self.problem(f"{where}: {scope}.parameters.{name} is not declared")

    def check_task_ref(
        self,
        where: str,
        task: str,
        output: str | None,
        tasks: Mapping[str, str],
        surely_ran: set[str] | frozenset[str],
        guarded: bool,
    ) -> None:
        if task not in tasks:
            self.problem(f"{where}: task {task!r} is not an ancestor of this task")
            return
        if output is None:
            return
        if output not in self.outputs_of(tasks[task]):
            self.problem(f"{where}: task {task!r} has no output parameter {output!r}")
        if task not in surely_ran and not guarded:
            self.problem(
                f"{where}: reads outputs of {task!r}, which may not have run (guard with its status)"
            )

    def check_expression(
        self,
        where: str,
        body: str,
        *,
        inputs: set[str],
        tasks: Mapping[str, str],
        surely_ran: set[str] | frozenset[str],
    ) -> None:
        for name in _IDENTIFIER.findall(_STRING.sub("''", body)):
            if name not in _EXPRESSION_NAMES:
                self.problem(f"{where}: unknown name {name!r} in expression {body!r}")
        for match in _PARAMETER_REF.finditer(body):
            self.check_parameter(where, match, inputs)
        for match in _TASK_REF.finditer(body):
            task = match.group(1)
            guard = f"tasks['{task}'].status == 'Succeeded'"
            self.check_task_ref(
                where, task, match.group(3), tasks, surely_ran, guard in body[: match.start()]
            )

    # -- templates --
    def check(self) -> list[str]:
        self.check_names()
        entry = self.spec.get("entrypoint")
        if entry not in self.templates:
            self.problem(f"entrypoint {entry!r} is not a template")
        exit_handler = self.spec.get("onExit")
        if exit_handler is not None and exit_handler not in self.templates:
            self.problem(f"onExit {exit_handler!r} is not a template")
        for template in self.templates.values():
            where = f"template {template['name']}"
            inputs = set(self.inputs_of(template["name"]))
            if "dag" in template:
                self.check_dag(template, inputs)
            for key in ("container", "inputs"):
                for path, text in _tagged_strings(template.get(key, {}), f"{where}.{key}"):
                    self.check_text(path, text, inputs=inputs, retries="retryStrategy" in template)
        return self.problems

    def check_dag(self, template: Mapping[str, Any], inputs: set[str]) -> None:
        where = f"template {template['name']}"
        tasks = {t["name"]: t for t in template["dag"]["tasks"]}
        if len(tasks) != len(template["dag"]["tasks"]):
            self.problem(f"{where}: duplicate task names")
        if any("depends" in t for t in tasks.values()) and any("dependencies" in t for t in tasks.values()):
            self.problem(f"{where}: depends and dependencies cannot be used in the same DAG")
        needs: dict[str, set[str]] = {}
        for name, task in tasks.items():
            needs[name] = {dep for dep, _ in _depends_names(task)}
            for dep, result in _depends_names(task):
                if result is not None and result not in _DEPENDS_RESULTS:
                    self.problem(f"{where}: task {name!r} depends on unknown result {dep}.{result}")
            for dep in sorted(needs[name] - set(tasks)):
                self.problem(f"{where}: task {name!r} depends on unknown task {dep!r}")
            if task.get("template") not in self.templates:
                self.problem(f"{where}: task {name!r} uses unknown template {task.get('template')!r}")
        order = _topological(needs)
        if order is None:
            self.problem(f"{where}: the task dependencies have a cycle")
            return
        # Tasks that surely succeeded before a task starts: what its `depends` requires to have
        # succeeded whichever way it holds, and, transitively, what those required.
        ran_before: dict[str, set[str]] = {}
        for name in order:
            ran_before[name] = _required_successes(tasks[name].get("depends") or "", ran_before)
        ancestors = _ancestors(order, needs)
        for name, task in tasks.items():
            scope = {a: tasks[a]["template"] for a in ancestors[name] if a in tasks}
            surely_ran = ran_before[name]
            item = any(key in task for key in ("withSequence", "withParam", "withItems"))
            for key in ("when", "withSequence", "withParam", "arguments"):
                if key not in task:
                    continue
                for path, text in _tagged_strings(task[key], f"{where}.{name}.{key}"):
                    self.check_text(
                        path, text, inputs=inputs, tasks=scope, item=item and key != "withSequence",
                        surely_ran=surely_ran,
                    )  # fmt: skip
            callee = task.get("template")
            if callee in self.templates:
                given = {p["name"] for p in task.get("arguments", {}).get("parameters", [])}
                declared = self.inputs_of(callee)
                for missing in sorted(
                    n for n, has_value in declared.items() if not has_value and n not in given
                ):
                    self.problem(f"{where}.{name}: input parameter {missing!r} of {callee!r} is not given")
                for extra in sorted(given - set(declared)):
                    self.problem(f"{where}.{name}: {callee!r} has no input parameter {extra!r}")
        all_tasks = {name: task["template"] for name, task in tasks.items()}
        # Tasks that ran whenever the DAG succeeded: no `when`, and `depends` only requires the
        # success of such tasks.
        always: set[str] = set()
        for name in order:
            task = tasks[name]
            depends = _depends_names(task)
            if (
                "when" not in task
                and "||" not in (task.get("depends") or "")
                and all(result == "Succeeded" and dep in always for dep, result in depends)
            ):
                always.add(name)
        for parameter in template.get("outputs", {}).get("parameters", []):
            source = parameter.get("valueFrom", {})
            path = f"{where}.outputs.{parameter['name']}"
            if "expression" in source:
                self.check_expression(
                    path, source["expression"], inputs=inputs, tasks=all_tasks, surely_ran=always
                )
            self.check_text(
                path, source.get("parameter", ""), inputs=inputs, tasks=all_tasks, surely_ran=always
            )


_DEPENDS_TOKEN = re.compile(r"&&|\|\||!|\(|\)|[A-Za-z0-9][-A-Za-z0-9]*(?:\.\w+)?")


def _required_successes(expression: str, before: Mapping[str, set[str]]) -> set[str]:
    """Tasks that succeeded whenever ``depends: expression`` holds: ``A.Succeeded`` requires A and
    what A required, ``&&`` requires both sides' tasks, ``||`` only those both sides require;
    negations and other results require nothing."""
    tokens = _DEPENDS_TOKEN.findall(expression)
    position = 0

    def peek() -> str:
        return tokens[position] if position < len(tokens) else ""

    def take() -> str:
        nonlocal position
        position += 1
        return tokens[position - 1] if position <= len(tokens) else ""

    def either() -> set[str]:
        required = both()
        while peek() == "||":
            take()
            required = required & both()
        return required

    def both() -> set[str]:
        required = single()
        while peek() == "&&":
            take()
            required = required | single()
        return required

    def single() -> set[str]:
        token = take()
        if token == "!":
            single()
            return set()
        if token == "(":
            required = either()
            take()  # ")"
            return required
        name, _, result = token.partition(".")
        return {name, *before.get(name, set())} if result == "Succeeded" else set()

    return either() if tokens else set()


def _ancestors(order: list[str], needs: Mapping[str, set[str]]) -> dict[str, set[str]]:
    """Every task's transitive dependencies, built once along a topological ``order`` (each
    task's set from its dependencies' sets, not one walk per task: a 200-step DAG is linted at
    compile time)."""
    ancestors: dict[str, set[str]] = {}
    for name in order:
        mine: set[str] = set()
        for dep in needs.get(name, ()):
            mine.add(dep)
            mine |= ancestors.get(dep, set())
        ancestors[name] = mine
    return ancestors


def _topological(needs: Mapping[str, set[str]]) -> list[str] | None:
    """The tasks in dependency order (None on a cycle); dependencies outside ``needs`` are ignored.
    Kahn's algorithm, O(tasks + edges)."""
    waiting = {name: len(set(deps) & needs.keys()) for name, deps in needs.items()}
    dependents: dict[str, list[str]] = {}
    for name, deps in needs.items():
        for dep in set(deps) & needs.keys():
            dependents.setdefault(dep, []).append(name)
    ready = sorted(name for name, count in waiting.items() if count == 0)
    order: list[str] = []
    while ready:
        name = ready.pop()
        order.append(name)
        for dependent in dependents.get(name, ()):
            waiting[dependent] -= 1
            if waiting[dependent] == 0:
                ready.append(dependent)
    return order if len(order) == len(needs) else None


def semantic_problems(document: Mapping[str, Any]) -> list[str]:
    """What Argo would reject (or mis-run) that the schema cannot see; empty when none.

    Checks: the entrypoint and every task's template exist; ``depends`` names tasks of the same DAG
    and has no cycle; every simple tag names a declared workflow/input parameter, ``item`` inside
    a loop, ``retries`` under a retryStrategy, or an output an ancestor task declares; every
    expression uses only known names; a task's outputs are read only where the task surely ran
    (its success is required by ``depends``, or the read is guarded by its status); every task
    gives each required input parameter of its template and no undeclared one; names follow
    Argo's rules (no template defined twice, parameter names of ``[-a-zA-Z0-9_]``); ``depends``
    names only known results and a DAG does not mix it with ``dependencies``; no ``{{`` is left
    unclosed. A CronWorkflow's schedules must parse as Argo parses them.
    """
    if document.get("kind") == "CronWorkflow":
        from flowc.frontend.cron import cron_problem

        spec = document.get("spec", {})
        schedules = spec.get("schedules", [])
        problems = [f"schedule {cron!r}: {cron_problem(cron)}" for cron in schedules if cron_problem(cron)]
        if not spec.get("schedules") and not spec.get("schedule"):
            problems.append("a CronWorkflow without schedules")
        return problems
    return _Checker(document).check()
