"""A workflow controller for :mod:`tests.argo.fake_kube`: runs each created Workflow with the test
executor, as Argo's controller would, and keeps its ``status`` up to date.

A Workflow that names a ``workflowTemplateRef`` runs that WorkflowTemplate with the Workflow's
arguments (https://argo-workflows.readthedocs.io/en/latest/workflow-templates/#create-workflow-from-workflowtemplate-spec).
``status.phase`` is ``Running`` with ``startedAt`` while it runs, then ``Succeeded`` / ``Failed`` /
``Error`` with ``finishedAt``. A patch that sets ``spec.shutdown: Terminate`` terminates it
(:meth:`tests.argo.executor.ArgoExecutor.terminate`). Containers are local processes
(``python`` is this interpreter) in ``workdir/<workflow name>/``.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import sys
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from tests.argo.executor import ArgoExecutor
from tests.argo.fake_kube import FakeKube

__all__ = ["ArgoController", "argo_controller"]


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ArgoController:
    def __init__(self, fake: FakeKube, workdir: Path, env: Mapping[str, str]) -> None:
        self.fake = fake
        self.workdir = workdir
        self.env = dict(env)
        self.executors: dict[tuple[str, str], ArgoExecutor] = {}
        self.threads: list[threading.Thread] = []
        self.lock = threading.Lock()

    def created(self, namespace: str, name: str) -> None:
        """Called by the fake API server (holding its lock) when a Workflow is created."""
        thread = threading.Thread(target=self._run, args=(namespace, name), daemon=True)
        self.threads.append(thread)
        thread.start()

    def patched(self, namespace: str, name: str, patch: Mapping[str, Any]) -> None:
        if (patch.get("spec") or {}).get("shutdown") == "Terminate":
            with self.lock:
                executor = self.executors.get((namespace, name))
            if executor is not None:
                threading.Thread(target=executor.terminate, daemon=True).start()

    def _set_status(self, namespace: str, name: str, **status: str) -> None:
        with self.fake.lock:
            stored = self.fake.objects.get(("workflows", namespace, name))
            if stored is not None:
                stored["status"] = {**(stored.get("status") or {}), **status}
                self.fake.version += 1
                stored["metadata"]["resourceVersion"] = str(self.fake.version)

    def _run(self, namespace: str, name: str) -> None:
        with self.fake.lock:
            workflow = self.fake.objects[("workflows", namespace, name)]
            reference = workflow["spec"].get("workflowTemplateRef")
            document = (
                self.fake.objects.get(("workflowtemplates", namespace, reference["name"]))
                if reference
                else workflow
            )
            arguments = {
                p["name"]: p.get("value", "")
                for p in workflow["spec"].get("arguments", {}).get("parameters", [])
            }
        if document is None:
            self._set_status(namespace, name, phase="Error", message="workflow template not found")
            return
        self._set_status(namespace, name, phase="Running", startedAt=_now())
        executor = ArgoExecutor(
            document,
            workdir=self.workdir / name,
            workflow_name=name,
            arguments=arguments,
            env=self.env,
            command=lambda argv: [sys.executable, *argv[1:]] if argv[0] == "python" else argv,
        )
        with self.lock:
            self.executors[(namespace, name)] = executor
        try:
            result = executor.run()
            phase, message = result.phase, result.message
        except Exception as exc:  # the document asks for something Argo would reject
            phase, message = "Error", str(exc)
        self._set_status(namespace, name, phase=phase, message=message, finishedAt=_now())

    def stop(self) -> None:
        with self.lock:
            executors = list(self.executors.values())
        for executor in executors:
            executor.terminate(grace_seconds=1)
        for thread in self.threads:
            thread.join(30)


@contextlib.contextmanager
def argo_controller(
    fake: FakeKube, workdir: Path, env: Mapping[str, str] | None = None
) -> Iterator[ArgoController]:
    """Runs the Workflows created on ``fake`` for the ``with`` block; terminates what is left."""
    process_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(workdir),
        "PYTHONPATH": "",
        "LANG": "C.UTF-8",
        "USER": "argo",
        **{k: v for k, v in os.environ.items() if k.startswith("AWS_") or k == "MOTO_PORT"},
        **(env or {}),
    }
    controller = ArgoController(fake, workdir, process_env)
    fake.controller = controller
    try:
        yield controller
    finally:
        fake.controller = None
        controller.stop()
