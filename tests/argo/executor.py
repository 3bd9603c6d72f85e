"""A test executor for compiled Argo documents: Argo's DAG semantics, containers as local processes.

No Kubernetes can run here, so this interprets a WorkflowTemplate/Workflow the way the Argo
controller does, for the fields flowc emits, and fails loudly on anything else. Each semantic cites
the Argo page it follows:

- DAG tasks, ``depends`` / ``dependencies``: a task starts when every task it names has finished,
  then runs if the expression holds and is Omitted otherwise; a bare name means
  ``Succeeded || Skipped || Daemoned``; one DAG cannot use both fields; a DAG fails fast (no new
  task starts after a failure).
  https://argo-workflows.readthedocs.io/en/latest/enhanced-depends-logic/ ,
  https://argo-workflows.readthedocs.io/en/latest/walk-through/dag/
- ``when``: evaluated after substitution; false makes the task Skipped. The whole task is
  substituted first, and a ``tasks.*`` reference that does not resolve is an error then, whatever
  ``when`` says (Argo 3.7.11+). https://argo-workflows.readthedocs.io/en/latest/walk-through/conditionals/
- ``withSequence`` / ``withParam`` / ``withItems``: one child per item, ``{{item}}`` in scope; an
  empty expansion is Skipped. https://argo-workflows.readthedocs.io/en/latest/walk-through/loops/
- template tags, simple and ``{{=expression}}``; in a DAG only the outputs and status of the
  task's ancestors are in scope, and an unresolved reference is an error.
  https://argo-workflows.readthedocs.io/en/latest/variables/
- input parameters (required unless they have a value), input artifacts with ``raw.data``
  (https://argo-workflows.readthedocs.io/en/latest/walk-through/hardwired-artifacts/), output
  parameters ``valueFrom.path`` read from the container's file after it exits, DAG outputs
  ``valueFrom.parameter`` / ``valueFrom.expression``
  (https://argo-workflows.readthedocs.io/en/latest/walk-through/output-parameters/).
- ``retryStrategy``: ``limit`` further attempts, ``retryPolicy`` (``Always`` retries failures and
  errors, ``OnFailure``, the default, failures only, ``OnError`` errors only), ``backoff``
  (duration, factor), ``{{retries}}`` numbering attempts from 0.
  https://argo-workflows.readthedocs.io/en/latest/retries/
- a container template is substituted three times, each pass leaving what it cannot resolve:
  globals and locals, then inputs as well (workflow/common/util.go, ``SubstituteParams``), then
  the whole pod, which carries the template's input artifacts in ``ARGO_TEMPLATE``
  (workflow/controller/workflowpod.go, ``substitutePodParams``); so text a first pass inserts is
  read as tags by the next ones. A tag left after the last pass is an error here (Argo would pass
  some on as text, fail on others).
- Kubernetes then expands ``$(NAME)`` in env values (from the variables defined before) and in
  command/args, ``$$`` standing for ``$``
  (https://kubernetes.io/docs/tasks/inject-data-application/define-interdependent-environment-variables/).
- template calls nest at most 100 deep (``Maximum recursion depth exceeded``: recursion is how a
  loop runs). https://argo-workflows.readthedocs.io/en/latest/scaling/#maximum-recursion-depth
- ``activeDeadlineSeconds`` on a template: the pod is killed and fails after that many seconds.
  https://argo-workflows.readthedocs.io/en/latest/fields/#template
- ``spec.activeDeadlineSeconds``: once the workflow has run that long its running pods are killed
  (SIGTERM, then SIGKILL) and fail, nothing more starts, the exit handler still runs (the deadline
  does not apply to it: argoproj/argo-workflows#13252) and the workflow fails with
  ``Max duration limit exceeded``. https://argo-workflows.readthedocs.io/en/latest/fields/#workflowspec
- ``envFrom.secretRef``: a missing Secret fails the pod before it starts (Kubernetes).
- ``onExit``: the exit handler template runs after the entrypoint whatever its outcome, with
  ``{{workflow.status}}`` set. https://argo-workflows.readthedocs.io/en/latest/walk-through/exit-handlers/
- ``spec.shutdown: Terminate`` (:meth:`ArgoExecutor.terminate`): running pods get SIGTERM, then
  SIGKILL after their grace period; nothing more starts, the exit handler included; the workflow
  fails. https://argo-workflows.readthedocs.io/en/latest/cli/argo_terminate/

Containers: ``command``/``args`` run as a local process (``python`` is this interpreter), with the
paths the template declares (artifact and output parameter paths) mapped into a scratch directory
per pod.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.argo.expr import ExpressionError, evaluate, go_format

__all__ = ["ArgoExecutor", "ExecutionError", "Node", "WorkflowResult"]

_TAG = re.compile(r"\{\{(.*?)\}\}", re.S)
_DEPENDS_TOKEN = re.compile(r"\s*(&&|\|\||!|\(|\)|[A-Za-z0-9][-A-Za-z0-9]*(?:\.[A-Za-z]+)?)")
_PHASE_ALIASES = {"Errored": "Error"}
_READS_TASKS = re.compile(r"(?<![\w.'])tasks\b")
#: Argo's default limit on nested template calls (controller ``maxStackDepth``).
MAX_STACK_DEPTH = 100
#: Phases of a failed attempt that each retryPolicy retries.
_RETRIED = {
    "Always": {"Failed", "Error"},
    "OnFailure": {"Failed"},
    "OnError": {"Error"},
    "OnTransientError": set(),
}


class ExecutionError(RuntimeError):
    """The document asks for something Argo would reject at run time (unresolved tag, bad field)."""


@dataclass
class Node:
    """One node of the run: a task (or one item of an expanded task) and how it ended."""

    path: str
    template: str
    phase: str
    outputs: dict[str, str] = field(default_factory=dict)
    message: str = ""
    exit_code: int | None = None
    attempts: int = 0


@dataclass
class WorkflowResult:
    phase: str
    nodes: list[Node]
    message: str = ""

    def node(self, path: str) -> Node:
        for node in self.nodes:
            if node.path == path:
                return node
        raise KeyError(path)

    def containers(self) -> list[Node]:
        return [n for n in self.nodes if n.exit_code is not None]


class ArgoExecutor:
    """Runs one workflow from a compiled document.

    Args:
        document: a WorkflowTemplate or Workflow (as a dict).
        workdir: scratch space (one sub-folder per pod).
        workflow_name: ``{{workflow.name}}``.
        arguments: workflow parameters given at submission (override the document's values).
        env: environment of every container process (on top of a minimal inherited one).
        secrets: Secret name -> its keys and values, for ``envFrom.secretRef``.
        command: turns a container's (substituted) command + args into the local argv to run.
        max_parallel: containers running at once.
    """

    def __init__(
        self,
        document: Mapping[str, Any],
        *,
        workdir: Path,
        workflow_name: str,
        arguments: Mapping[str, str] | None = None,
        env: Mapping[str, str] | None = None,
        secrets: Mapping[str, Mapping[str, str]] | None = None,
        command: Callable[[list[str]], list[str]] | None = None,
        max_parallel: int = 4,
    ) -> None:
        if document.get("kind") not in ("Workflow", "WorkflowTemplate"):
            raise ExecutionError(f"cannot run a {document.get('kind')}")
        self.spec = document["spec"]
        self.templates = {t["name"]: t for t in self.spec["templates"]}
        self.workdir = workdir
        self.env = dict(env or {})
        self.secrets = secrets or {}
        self.command = command or _local_python
        # spec.parallelism: pods of the workflow running at once
        # (https://argo-workflows.readthedocs.io/en/latest/parallelism/).
        self.slots = threading.Semaphore(min(max_parallel, int(self.spec.get("parallelism") or max_parallel)))
        self.lock = threading.Lock()
        self.nodes: list[Node] = []
        self.pods = 0
        self.terminated = False
        self.deadline_exceeded = False
        self.running: set[subprocess.Popen] = set()
        self.global_scope = {
            "workflow.name": workflow_name,
            "workflow.namespace": document["metadata"].get("namespace", "default"),
        }
        given = dict(arguments or {})
        for parameter in self.spec.get("arguments", {}).get("parameters", []):
            name = parameter["name"]
            if name in given:
                value = given.pop(name)
            elif "value" in parameter:
                value = parameter["value"]
            else:
                raise ExecutionError(f"spec.arguments.{name}.value is required")
            self.global_scope[f"workflow.parameters.{name}"] = str(value)
        if given:
            raise ExecutionError(f"unknown workflow parameter(s) {sorted(given)}")

    # ---- entry ------------------------------------------------------------------------
    def run(self) -> WorkflowResult:
        entry = self.spec["entrypoint"]
        deadline = self.spec.get("activeDeadlineSeconds")
        timer = threading.Timer(float(deadline), self._deadline_passed) if deadline is not None else None
        if timer is not None:
            timer.daemon = True
            timer.start()
        node = self._call(entry, {}, entry, depth=0)
        phase, message = node.phase, node.message
        if timer is not None:
            timer.cancel()
            timer.join()
        if self.deadline_exceeded:
            phase, message = "Failed", "Max duration limit exceeded"
            self.terminated = False  # the exit handler runs after the workflow's deadline
        if self.terminated:
            return WorkflowResult("Failed", list(self.nodes), "Stopped with strategy 'Terminate'")
        exit_handler = self.spec.get("onExit")
        if exit_handler:
            # The exit handler runs whatever the outcome, with the workflow's status in scope; if it
            # fails, so does the workflow.
            # https://argo-workflows.readthedocs.io/en/latest/walk-through/exit-handlers/
            self.global_scope["workflow.status"] = phase
            handled = self._call(exit_handler, {}, f"{entry}.onExit", depth=0)
            if handled.phase != "Succeeded" and phase == "Succeeded":
                phase, message = "Failed", f"exit handler: {handled.message}"
        return WorkflowResult(phase, list(self.nodes), message)

    def _deadline_passed(self) -> None:
        with self.lock:
            if self.terminated:  # stopped already: a Terminate wins
                return
            self.deadline_exceeded = True
        self.terminate()

    def terminate(self, grace_seconds: float = 5.0) -> None:
        """``spec.shutdown: Terminate``: stops every running pod (SIGTERM, SIGKILL after
        ``grace_seconds``, as the kubelet does with a pod's grace period) and starts no more."""
        with self.lock:
            self.terminated = True
            processes = list(self.running)
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, 15)
        for process in processes:
            try:
                process.wait(timeout=grace_seconds)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, 9)

    # ---- substitution -----------------------------------------------------------------
    def substitute(self, value: Any, scope: Mapping[str, str], *, strict: bool = True) -> Any:
        """Every ``{{...}}`` in ``value`` (strings, lists, dicts) resolved in ``scope``.

        ``strict=False`` is one of Argo's ``allowUnresolved`` passes: a tag that does not resolve
        (or an expression that fails) is written back as it was.
        """
        if isinstance(value, str):
            return _TAG.sub(lambda m: self._resolve(m.group(1), scope, strict, m.group(0)), value)
        if isinstance(value, list):
            return [self.substitute(v, scope, strict=strict) for v in value]
        if isinstance(value, dict):
            return {k: self.substitute(v, scope, strict=strict) for k, v in value.items()}
        return value

    def _resolve(self, tag: str, scope: Mapping[str, str], strict: bool = True, text: str = "") -> str:
        if tag.startswith("="):
            try:
                return go_format(evaluate(tag[1:], scope))
            except ExpressionError as exc:
                if not strict:
                    return text
                raise ExecutionError(f"cannot evaluate {{{{{tag}}}}}: {exc}") from None
        name = tag.strip()
        if name not in scope:
            if not strict:
                return text
            raise ExecutionError(f"unresolved reference {{{{{name}}}}}")
        return scope[name]

    def _pod_fields(self, template: Mapping[str, Any], scope: Mapping[str, str], pod: str) -> dict:
        """The container and input artifacts of a pod after Argo's three substitution passes."""
        inputs = {k: v for k, v in scope.items() if k.startswith("inputs.")}
        locals_ = {"pod.name": pod, **({"retries": scope["retries"]} if "retries" in scope else {})}
        for parameter in template.get("outputs", {}).get("parameters", []):
            if "path" in parameter.get("valueFrom", {}):
                inputs[f"outputs.parameters.{parameter['name']}.path"] = parameter["valueFrom"]["path"]
        fields = {
            "container": template["container"],
            "artifacts": template.get("inputs", {}).get("artifacts", []),
        }
        passes = (
            {**self.global_scope, **locals_},
            {**self.global_scope, **locals_, **inputs},
            {**self.global_scope, **inputs, "pod.name": pod},
        )
        for pass_scope in passes:
            fields = self.substitute(fields, pass_scope, strict=False)
        for text in _texts(fields):
            if "{{" in text:
                raise ExecutionError(f"{pod}: unresolved or unclosed template tag left in {text[:200]!r}")
        return fields

    # ---- templates --------------------------------------------------------------------
    def _call(self, name: str, arguments: Mapping[str, str], path: str, *, depth: int) -> Node:
        template = self.templates.get(name)
        if template is None:
            raise ExecutionError(f"template {name!r} not found")
        if depth >= MAX_STACK_DEPTH:
            message = (
                "Maximum recursion depth exceeded. See "
                "https://argo-workflows.readthedocs.io/en/latest/scaling/#maximum-recursion-depth"
            )
            return self._record(Node(path, name, "Error", message=message))
        inputs = {}
        for parameter in template.get("inputs", {}).get("parameters", []):
            key = parameter["name"]
            if key in arguments:
                inputs[key] = arguments[key]
            elif "value" in parameter:
                inputs[key] = parameter["value"]
            else:
                raise ExecutionError(f"{path}: input parameter {key!r} of template {name!r} was not supplied")
        unknown = set(arguments) - set(inputs)
        if unknown:
            raise ExecutionError(f"{path}: template {name!r} has no input parameter(s) {sorted(unknown)}")
        scope = {**self.global_scope, **{f"inputs.parameters.{k}": v for k, v in inputs.items()}}
        if "dag" in template:
            return self._dag(template, scope, path, depth)
        if "container" in template:
            return self._container(template, scope, path)
        raise ExecutionError(f"template {name!r}: only dag and container templates are interpreted")

    def _record(self, node: Node) -> Node:
        with self.lock:
            self.nodes.append(node)
        return node

    # ---- DAG --------------------------------------------------------------------------
    def _dag(self, template: Mapping[str, Any], scope: Mapping[str, str], path: str, depth: int) -> Node:
        tasks = {t["name"]: t for t in template["dag"]["tasks"]}
        if any("depends" in t for t in tasks.values()) and any("dependencies" in t for t in tasks.values()):
            # https://argo-workflows.readthedocs.io/en/latest/enhanced-depends-logic/
            raise ExecutionError(f"{path}: a DAG cannot use both depends and dependencies")
        needs = {name: _depends_names(task) for name, task in tasks.items()}
        for name, deps in needs.items():
            missing = deps - set(tasks)
            if missing:
                raise ExecutionError(f"{path}: task {name!r} depends on unknown task(s) {sorted(missing)}")
        done: dict[str, Node] = {}
        failed = False
        pending = set(tasks)
        with ThreadPoolExecutor(max_workers=max(1, len(tasks))) as pool:
            running: dict[Any, str] = {}
            while pending or running:
                # Omitting a task can make others ready at once: scan until nothing changes.
                ready = [n for n in sorted(pending) if all(d in done for d in needs[n])]
                while ready and not failed:  # fail fast: nothing new starts once a task failed
                    name = ready.pop(0)
                    pending.discard(name)
                    if not _evaluate_depends(tasks[name], {d: done[d].phase for d in needs[name]}):
                        done[name] = self._record(Node(f"{path}.{name}", tasks[name]["template"], "Omitted"))
                        ready = [n for n in sorted(pending) if all(d in done for d in needs[n])]
                        continue
                    task_scope = dict(scope)
                    for ancestor in _ancestors(name, needs):
                        node = done[ancestor]
                        task_scope[f"tasks.{ancestor}.status"] = node.phase
                        for key, value in node.outputs.items():
                            task_scope[f"tasks.{ancestor}.outputs.parameters.{key}"] = value
                    future = pool.submit(self._task, tasks[name], task_scope, f"{path}.{name}", depth + 1)
                    running[future] = name
                if not running:
                    if pending and not failed:
                        raise ExecutionError(f"{path}: tasks {sorted(pending)} can never start (cycle?)")
                    break
                finished = next(iter(_wait_any(running)))
                name = running.pop(finished)
                done[name] = finished.result()
                failed = failed or done[name].phase in ("Failed", "Error")
        phase = "Failed" if failed else "Succeeded"
        outputs: dict[str, str] = {}
        if not failed:
            outputs = self._dag_outputs(template, scope, done, path)
        message = "; ".join(n.message for n in done.values() if n.phase in ("Failed", "Error") and n.message)
        return self._record(Node(path, template["name"], phase, outputs, message))

    def _dag_outputs(
        self, template: Mapping[str, Any], scope: Mapping[str, str], done: Mapping[str, Node], path: str
    ) -> dict[str, str]:
        full = dict(scope)
        for name, node in done.items():
            full[f"tasks.{name}.status"] = node.phase
            for key, value in node.outputs.items():
                full[f"tasks.{name}.outputs.parameters.{key}"] = value
        outputs = {}
        for parameter in template.get("outputs", {}).get("parameters", []):
            source = parameter.get("valueFrom", {})
            if "parameter" in source:
                outputs[parameter["name"]] = self.substitute(source["parameter"], full)
            elif "expression" in source:
                try:
                    outputs[parameter["name"]] = go_format(evaluate(source["expression"], full))
                except ExpressionError as exc:
                    raise ExecutionError(f"{path}: output {parameter['name']!r}: {exc}") from None
            else:
                raise ExecutionError(
                    f"{path}: DAG output {parameter['name']!r} needs parameter or expression"
                )
        return outputs

    def _task(self, task: Mapping[str, Any], scope: Mapping[str, str], path: str, depth: int) -> Node:
        self._resolve_task_references(task, scope, path)
        items: list[Any] | None = None
        if "withSequence" in task:
            sequence = self.substitute(task["withSequence"], scope)
            if "count" in sequence:
                start, end = 0, int(sequence["count"]) - 1
            else:
                start, end = int(sequence.get("start", 0)), int(sequence["end"])
            items = [str(i) for i in range(start, end + 1)]
        elif "withParam" in task:
            items = json.loads(self.substitute(task["withParam"], scope))
        elif "withItems" in task:
            items = list(task["withItems"])
        if items is None:
            return self._one(task, scope, path, depth)
        if not items:
            return self._record(Node(path, task["template"], "Skipped", message="Skipped, empty params"))
        with ThreadPoolExecutor(max_workers=len(items)) as pool:
            children = list(
                pool.map(
                    lambda pair: self._one(
                        task, {**scope, "item": _item_text(pair[1])}, f"{path}({pair[0]})", depth
                    ),
                    enumerate(items),
                )
            )
        bad = [c for c in children if c.phase in ("Failed", "Error")]
        phase = "Failed" if bad else "Succeeded"
        return self._record(Node(path, task["template"], phase, message="; ".join(c.message for c in bad)))

    def _resolve_task_references(self, task: Mapping[str, Any], scope: Mapping[str, str], path: str) -> None:
        """Every tag of the task that reads ``tasks`` must resolve before anything else happens.

        Argo substitutes the whole task (``when``, ``arguments``, ``with*``) before it evaluates
        ``when`` or expands items (dag.go, ``resolveDependencyReferences``), and since 3.7.11 a
        reference to ``tasks.*`` that does not resolve is an error (``ReplaceStrict``) even in a
        task ``when`` then skips.
        """
        fields = {key: task[key] for key in ("when", "arguments", "withSequence", "withParam") if key in task}
        for text in _texts(fields):
            for match in _TAG.finditer(text):
                body = match.group(1)
                if _READS_TASKS.search(body[1:] if body.startswith("=") else body.strip()):
                    try:
                        self._resolve(body, scope)
                    except ExecutionError as exc:
                        raise ExecutionError(f"{path}: {exc}") from None

    def _one(self, task: Mapping[str, Any], scope: Mapping[str, str], path: str, depth: int) -> Node:
        if "when" in task:
            condition = self.substitute(task["when"], scope)
            if not _govaluate(condition):
                return self._record(
                    Node(path, task["template"], "Skipped", message=f"when '{condition}' false")
                )
        arguments = {
            p["name"]: self.substitute(p.get("value", ""), scope)
            for p in task.get("arguments", {}).get("parameters", [])
        }
        return self._call(task["template"], arguments, path, depth=depth)

    # ---- containers -------------------------------------------------------------------
    def _container(self, template: Mapping[str, Any], scope: Mapping[str, str], path: str) -> Node:
        strategy = template.get("retryStrategy")
        limit = int(strategy.get("limit", 0)) if strategy else 0
        node = Node(path, template["name"], "Pending")
        for attempt in range(limit + 1):
            attempt_scope = dict(scope)
            if strategy is not None:
                attempt_scope["retries"] = str(attempt)
            phase, exit_code, outputs, message = self._pod(template, attempt_scope, path)
            node = Node(path, template["name"], phase, outputs, message, exit_code, attempt + 1)
            if phase == "Succeeded" or self.terminated:
                break
            policy = (strategy or {}).get("retryPolicy", "OnFailure")
            if policy not in _RETRIED:
                raise ExecutionError(f"{path}: unknown retryPolicy {policy!r}")
            if phase not in _RETRIED[policy]:
                break
            if attempt < limit:
                time.sleep(_backoff_seconds(strategy or {}, attempt))
        return self._record(node)

    def _pod(
        self, template: Mapping[str, Any], scope: Mapping[str, str], path: str
    ) -> tuple[str, int, dict, str]:
        with self.lock:
            self.pods += 1
            pod_dir = self.workdir / f"pod-{self.pods}"
        pod_dir.mkdir(parents=True)
        mapped = _PathMap(pod_dir, template)
        fields = self._pod_fields(template, scope, pod_dir.name)
        for artifact in fields["artifacts"]:
            if "raw" not in artifact:
                raise ExecutionError(f"{path}: only raw input artifacts are interpreted")
            target = mapped.local(artifact["path"])
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(artifact["raw"]["data"], encoding="utf-8")
        mapped.local("/tmp").mkdir(parents=True, exist_ok=True)  # every image has /tmp, nothing more
        container = fields["container"]
        defined: dict[str, str] = {}  # the container's own variables, which $(NAME) may name
        for source in container.get("envFrom", []):
            secret = source["secretRef"]["name"]
            if secret not in self.secrets:
                return "Error", -1, {}, f"secret {secret!r} not found"
            defined.update(self.secrets[secret])
        for variable in container.get("env", []):
            defined[variable["name"]] = _kubernetes_expand(variable["value"], defined)
        env = {**self.env, **defined}
        words = [*container.get("command", []), *container.get("args", [])]
        words = [_kubernetes_expand(word, defined) for word in words]
        argv = [mapped.rewrite(word) for word in words]
        deadline = template.get("activeDeadlineSeconds")
        with self.slots, open(pod_dir / "main.log", "wb") as log:
            with self.lock:
                if self.terminated:
                    return "Failed", -1, {}, "Stopped with strategy 'Terminate'"
                process = subprocess.Popen(
                    self.command(argv), cwd=pod_dir, env=env, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True,
                )  # fmt: skip
                self.running.add(process)
            try:
                exit_code = process.wait(timeout=float(deadline) if deadline is not None else None)
                message = ""
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, 9)
                process.wait()
                return "Failed", -9, {}, "Pod was active on the node longer than the specified deadline"
            finally:
                with self.lock:
                    self.running.discard(process)
            if self.terminated:
                return "Failed", exit_code, {}, "Stopped with strategy 'Terminate'"
        if exit_code != 0:
            tail = (pod_dir / "main.log").read_text(errors="replace").strip().splitlines()[-3:]
            return "Failed", exit_code, {}, f"exit code {exit_code}: " + " | ".join(tail)
        outputs = {}
        for parameter in template.get("outputs", {}).get("parameters", []):
            source = parameter["valueFrom"]
            local = mapped.local(source["path"])
            if local.exists():
                outputs[parameter["name"]] = local.read_text(encoding="utf-8")
            elif "default" in source:
                outputs[parameter["name"]] = source["default"]
            else:
                return (
                    "Error",
                    exit_code,
                    {},
                    f"output parameter {parameter['name']!r}: {source['path']} missing",
                )
        return "Succeeded", exit_code, outputs, message


class _PathMap:
    """The paths a template declares (artifacts, output parameters) -> the pod's scratch directory."""

    def __init__(self, root: Path, template: Mapping[str, Any]) -> None:
        self.root = root
        self.declared = {a["path"] for a in template.get("inputs", {}).get("artifacts", [])}
        self.declared |= {
            p["valueFrom"]["path"]
            for p in template.get("outputs", {}).get("parameters", [])
            if "path" in p.get("valueFrom", {})
        }

    def local(self, container_path: str) -> Path:
        return self.root / "fs" / container_path.lstrip("/")

    def rewrite(self, word: str) -> str:
        return str(self.local(word)) if word in self.declared else word


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [t for item in value for t in _texts(item)]
    if isinstance(value, dict):
        return [t for item in value.values() for t in _texts(item)]
    return []


def _kubernetes_expand(text: str, defined: Mapping[str, str]) -> str:
    """Kubernetes' ``$(NAME)`` expansion (third_party/forked/golang/expansion): ``$$`` is ``$``,
    ``$(NAME)`` of a defined variable its value, anything else stays as written."""
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char != "$" or i + 1 == len(text):
            out.append(char)
            i += 1
            continue
        following = text[i + 1]
        if following == "$":
            out.append("$")
            i += 2
        elif following == "(":
            end = text.find(")", i + 2)
            if end == -1:
                out.append("$(")
                i += 2
            else:
                name = text[i + 2 : end]
                out.append(defined.get(name, f"$({name})"))
                i = end + 1
        else:
            out.append("$" + following)
            i += 2
    return "".join(out)


def _local_python(argv: list[str]) -> list[str]:
    return [sys.executable, *argv[1:]] if argv and argv[0] in ("python", "python3") else argv


def _item_text(item: Any) -> str:
    return item if isinstance(item, str) else json.dumps(item)


def _wait_any(running: Mapping[Any, str]) -> set[Any]:
    from concurrent.futures import FIRST_COMPLETED, wait

    done, _ = wait(list(running), return_when=FIRST_COMPLETED)
    return done


def _backoff_seconds(strategy: Mapping[str, Any], attempt: int) -> float:
    backoff = strategy.get("backoff")
    if not backoff:
        return 0.0
    duration = str(backoff.get("duration", "0"))
    seconds = float(duration[:-1]) if duration.endswith("s") else float(duration)
    return seconds * float(backoff.get("factor", 1)) ** attempt


def _depends_expression(task: Mapping[str, Any]) -> str:
    if "depends" in task:
        if "dependencies" in task:
            raise ExecutionError(f"task {task['name']!r}: depends and dependencies are mutually exclusive")
        return task["depends"]
    return " && ".join(task.get("dependencies", []))


def _depends_names(task: Mapping[str, Any]) -> set[str]:
    names = set()
    for token in _DEPENDS_TOKEN.findall(_depends_expression(task)):
        if token not in ("&&", "||", "!", "(", ")"):
            names.add(token.split(".")[0])
    return names


def _evaluate_depends(task: Mapping[str, Any], phases: Mapping[str, str]) -> bool:
    expression = _depends_expression(task)
    if not expression.strip():
        return True
    python = []
    for token in _DEPENDS_TOKEN.findall(expression):
        if token in ("&&", "||", "!", "(", ")"):
            python.append({"&&": " and ", "||": " or ", "!": " not "}.get(token, token))
            continue
        name, _, result = token.partition(".")
        phase = phases[name]
        if not result:
            value = phase in ("Succeeded", "Skipped", "Daemoned")
        elif result in ("Succeeded", "Failed", "Errored", "Skipped", "Omitted", "Daemoned"):
            value = phase == _PHASE_ALIASES.get(result, result)
        else:
            raise ExecutionError(f"task {task['name']!r}: unsupported depends result {result!r}")
        python.append(str(value))
    return bool(eval("".join(python), {"__builtins__": {}}))  # tokens are only True/False/and/or/not/()


def _govaluate(condition: str) -> bool:
    """``when`` after substitution: the literals true/false, or ``a == b`` / ``a != b``."""
    text = condition.strip()
    if text in ("true", "false"):
        return text == "true"
    for op in ("==", "!="):
        if op in text:
            left, right = (part.strip().strip("'\"") for part in text.split(op, 1))
            return (left == right) == (op == "==")
    raise ExecutionError(f"cannot evaluate when {condition!r}")


def _ancestors(name: str, needs: Mapping[str, set[str]]) -> set[str]:
    seen: set[str] = set()
    todo = list(needs[name])
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(needs[current])
    return seen
