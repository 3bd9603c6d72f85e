"""Compile a flow for Argo and run the document with the test executor against a datastore.

The code package is built and stored in the datastore like ``flowc deploy`` does, and its hash is
given as the ``flowc-package`` workflow parameter, so every container runs
``python -m flowc.task_runner --package <sha>`` exactly as it would in a pod.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowc.backends.options import CompileOptions
from tests.argo.executor import ArgoExecutor, WorkflowResult

__all__ = ["ArgoRun", "argo_settings", "compile_documents", "run_flow"]

REPO_ROOT = Path(__file__).resolve().parents[2]


def argo_settings(datastore: str = "s3://flowc-datastore/flowc", **overrides: Any):
    """Settings independent of the machine: no project file, no environment."""
    from flowc.config import load_settings

    return load_settings({"datastore": datastore, **overrides}, start=Path("/"), environ={})


def compile_documents(
    flow_file: Path, options: Mapping[str, Any] | None = None, **settings: Any
) -> list[dict]:
    import yaml

    from flowc.backends.argo import BACKEND
    from flowc.frontend import build_ir

    ir = build_ir(str(flow_file))
    files = BACKEND.compile(ir, argo_settings(**settings), CompileOptions(**(options or {})))
    return [yaml.safe_load(f.text) for f in files]


@dataclass
class ArgoRun:
    result: WorkflowResult
    run_id: str
    datastore: str
    document: dict


def _arguments(parameters: Mapping[str, str], datastore: str) -> dict[str, str]:
    """What ``flowc trigger`` puts in the Workflow (large values stored in the datastore)."""
    from flowc.backends.argo.deploy import workflow_arguments

    return {entry["name"]: entry["value"] for entry in workflow_arguments(parameters, datastore)}


def run_flow(
    flow_file: Path,
    workdir: Path,
    datastore: str,
    *,
    parameters: Mapping[str, str] | None = None,
    workflow_name: str = "wf-test",
    secrets: Mapping[str, Mapping[str, str]] | None = None,
    env: Mapping[str, str] | None = None,
    settings: Mapping[str, Any] | None = None,
    options: Mapping[str, Any] | None = None,
    package_from: Path | None = None,
) -> ArgoRun:
    """Compiles ``flow_file`` (with ``settings`` over :func:`argo_settings`), stores its code package
    in ``datastore`` and runs the workflow. ``package_from``: package this flow file instead (a
    deployment whose package is not the code its document was compiled from)."""
    from flowc.datastore.storage import open_storage
    from flowc.environments.deploy import store_code
    from flowc.frontend import build_ir
    from flowc.package import build_package

    document = next(
        d
        for d in compile_documents(flow_file, options, datastore=datastore, **dict(settings or {}))
        if d["kind"] == "WorkflowTemplate"
    )
    package = build_package(package_from or flow_file)
    # As `flowc deploy` stores it: with the locks of its @pypi environments beside it.
    settings_used = argo_settings(datastore, **dict(settings or {}))
    store_code(open_storage(datastore), package, build_ir(str(flow_file)), settings_used)
    process_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(workdir),
        "PYTHONPATH": "",
        "LANG": "C.UTF-8",
        "USER": "argo",
        **{k: v for k, v in os.environ.items() if k.startswith("AWS_") or k == "MOTO_PORT"},
        **(env or {}),
    }
    executor = ArgoExecutor(
        document,
        workdir=workdir,
        workflow_name=workflow_name,
        arguments={"flowc-package": package.sha, **_arguments(parameters or {}, datastore)},
        env=process_env,
        secrets=secrets,
        command=lambda argv: [sys.executable, *argv[1:]] if argv[0] == "python" else argv,
    )
    return ArgoRun(executor.run(), f"argo-{workflow_name}", datastore, document)
