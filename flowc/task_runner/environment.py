"""A task whose step has a ``@pypi`` environment, started where no bootstrap installed it.

The bootstrap (``bootstrap_program.py``) installs a step's environment before the task runner
starts. A task started as ``python -m flowc.task_runner`` (an image with flowc, Airflow's
local-process operator, ``--no-bootstrap``) does it here instead: the same installer, then the
process replaces itself with the same command, the environment first on its path. The step's
environment is named by ``FLOWC_ENVIRONMENT`` (documents set it for a pod's task of one step),
else read from the flow's IR: the one in the code package, or the one built from the flow file
(``--source``: Airflow's local operator without a package). A loop's region
runner (``flowc.task_runner.region``) starts each step's task without an environment: each one
enters its own step's here. The lock is the one recorded
beside the code package (``--package``), or for a flow file (``--source``) the one ``flowc run``,
``flowc deploy`` or ``flowc env resolve`` made last for this machine.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from flowc.environments.install import ACTIVE_ENV, ENVIRONMENT_ENV
from flowc.task_runner.spec import TaskSpec

__all__ = ["enter_step_environment"]


def enter_step_environment(spec: TaskSpec, module: str, argv: Sequence[str]) -> None:
    """Re-executes this task inside its step's environment, unless it has none or runs in it.

    Exits 3 (infrastructure) with one line on stderr when the environment cannot be had.
    """
    if os.environ.get(ACTIVE_ENV):
        return
    name = os.environ.get(ENVIRONMENT_ENV) or _declared_environment(spec)
    if not name:
        return
    import json

    from flowc.datastore.layout import object_key
    from flowc.datastore.storage import NotFound, StorageError, open_storage
    from flowc.environments.install import activate, running_python
    from flowc.environments.local import install_lock
    from flowc.environments.lock import deployed_locks_key, lock_from_bytes
    from flowc.environments.resolve import ResolveError, host_platform_name, latest_lock
    from flowc.task_runner.runner import datastore_url

    try:
        storage = open_storage(datastore_url(spec.datastore))
        if spec.package:
            lock_sha = json.loads(bytes(storage.read(deployed_locks_key(spec.package))))[name]
            lock = lock_from_bytes(storage.read(object_key(lock_sha)))
        else:
            lock = latest_lock(storage, name, host_platform_name(), running_python())
            if lock is None:
                raise ResolveError(f"no lock of environment {name} here: run `flowc env resolve FLOW.py`")
        site = install_lock(storage, lock)
    except (NotFound, KeyError, ValueError) as exc:
        _fail(f"no lock of environment {name} for this task ({exc}): deploy the flow again")
    except (ResolveError, StorageError, OSError) as exc:
        _fail(str(exc))
    environ = activate({**os.environ, ENVIRONMENT_ENV: name}, site, lock.sha)
    os.execve(sys.executable, [sys.executable, "-m", module, *argv], environ)


def _declared_environment(spec: TaskSpec) -> str | None:
    """The name of the environment ``spec``'s step declares in the flow's IR, or None (none, or the
    IR cannot be had here: the task runner then reports that itself).

    A code package holds the IR (``flowc.package.IR_NAME``: the whole flow as the front end saw it,
    inherited steps and a ``@pypi_base`` of a base class in another file included), so it is read,
    not rebuilt. A flow file is built by the front end, as the task will build it anyway: this
    process forks the task (:mod:`flowc.task_runner.supervise`), which then finds the front end
    imported and builds it again in a millisecond or two. (The file's text is not enough to tell:
    a ``@pypi_base`` of a base flow imported from another file is not in it.)"""
    try:
        if spec.package:  # the package's IR (tasks never run the front end on a package)
            from flowc.datastore.storage import open_storage
            from flowc.task_runner.bootstrap import materialize_package
            from flowc.task_runner.loading import package_ir
            from flowc.task_runner.runner import datastore_url

            folder = materialize_package(open_storage(datastore_url(spec.datastore)), spec.package)
            ir = package_ir(folder)
        elif spec.source:
            from flowc.frontend import build_ir

            ir = build_ir(spec.source)
        else:
            return None
        environment = ir.step(spec.address.step).python_environment
    except Exception:  # whatever it is, the task runner reports it with context
        return None
    return environment.name if environment is not None else None


def _fail(message: str) -> None:
    from flowc.redact import mask_credentials

    print(f"flowc task runner: {mask_credentials(message)}", file=sys.stderr, flush=True)
    raise SystemExit(3)
