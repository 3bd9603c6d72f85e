"""``flowc run`` with ``@pypi``: every environment locked and installed before any task starts.

Each lock is installed once per machine, from the datastore's wheelhouse, into the cache folder
named by its hash (the same installer the bootstrap uses in a pod:
:func:`flowc.task_runner.bootstrap_program.install_environment`). A step with an environment then
runs its tasks as ``python -m flowc.task_runner`` processes with that folder first on their path;
steps without one keep the fork executor: a flow without ``@pypi`` pays nothing. A step's tasks are
forked too, the environment put first on the child's path, when the runtime has imported none of
the environment's top-level modules (the runtime imported the flow; a step's own imports then
come from the environment); otherwise each runs as a fresh ``python -m flowc.task_runner``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flowc.environments.lock import Lock
from flowc.environments.resolve import ResolveError, host_platform_name, lock_environments, steps_by_lock
from flowc.ir import FlowIR

__all__ = ["StepEnvironment", "environment_cache_dir", "install_lock", "prepare_environments"]


@dataclass(frozen=True)
class StepEnvironment:
    """How the tasks of one step start: the variables that put its environment first."""

    lock: Lock
    variables: dict[str, str]
    modules: frozenset[str] = frozenset()  # the top-level modules the environment provides
    # What the step may import from this interpreter (None: not isolated; flowc/environments/isolation.py)
    allowed: frozenset[str] | None = None
    roots: tuple[str, ...] = ()

    def forkable(self, imported: Any) -> bool:
        """Whether a fork of a process that imported ``imported`` (``sys.modules``) may run the
        step: none of the environment's modules may be loaded already (the child would keep that
        version), nor, when the step is isolated, another package of this interpreter (the step
        would use it past the import guard: a fresh process imports the flow under the guard)."""
        from flowc.environments.isolation import foreign_modules

        if any(name in imported for name in self.modules):
            return False
        return self.allowed is None or not foreign_modules(imported, self.allowed | self.modules, self.roots)


def environment_cache_dir() -> str:
    """Where environments are installed: the code package cache (``FLOWC_PACKAGE_CACHE``)."""
    from flowc.task_runner.bootstrap import package_cache_dir

    return str(package_cache_dir())


def install_lock(storage: Any, lock: Lock) -> str:
    """The installed site folder of ``lock`` (installed from ``storage``'s wheelhouse if not cached).

    Raises:
        ResolveError: a wheel missing or corrupt, or the installer failed.
    """
    from flowc.datastore.layout import object_key
    from flowc.datastore.storage import NotFound
    from flowc.environments.install import EnvironmentProblem, install_environment

    def read(sha: str) -> bytes:
        try:
            return bytes(storage.read(object_key(sha)))
        except NotFound:
            raise EnvironmentProblem(
                f"wheel {sha} of environment {lock.environment} is not in the "
                f"wheelhouse of {storage.url}: run `flowc env resolve`"
            ) from None

    try:
        return install_environment(lock.to_bytes(), read, environment_cache_dir())
    except (EnvironmentProblem, OSError) as exc:
        raise ResolveError(str(exc)) from None


def prepare_environments(
    ir: FlowIR, storage: Any, settings: Any, *, say: Callable[[str], None] | None = None
) -> dict[str, StepEnvironment]:
    """Step -> its environment, every one locked for this machine and installed (empty without @pypi).

    Raises:
        ResolveError: an environment that cannot be locked or installed (names its steps).
    """
    import os

    from flowc.environments.install import ENVIRONMENT_ENV, activate
    from flowc.environments.isolation import ISOLATED_ENV, isolation_value, runtime_modules, site_roots

    def progress(name: str, steps: list[str]) -> None:
        if say is not None:
            say(f"resolving environment {name} of step(s) {', '.join(steps)}")

    _refuse_other_pythons(ir, settings)
    locks = lock_environments(ir, storage, settings, platform=host_platform_name(), on_resolve=progress)
    sites = {lock.sha: install_lock(storage, lock) for lock in locks.values()}
    allowed = runtime_modules() if locks else None
    roots = site_roots()
    prepared = {}
    for step, lock in steps_by_lock(ir, locks):
        inherited = {"PYTHONPATH": os.environ["PYTHONPATH"]} if os.environ.get("PYTHONPATH") else {}
        variables = activate({ENVIRONMENT_ENV: lock.environment, **inherited}, sites[lock.sha], lock.sha)
        if allowed is not None:
            variables[ISOLATED_ENV] = isolation_value(lock.environment, allowed)
        modules = _top_level_modules(sites[lock.sha])
        prepared[step] = StepEnvironment(lock, variables, modules, allowed, roots)
    return prepared


def _refuse_other_pythons(ir: FlowIR, settings: Any) -> None:
    """ResolveError naming each step whose environment asks for another Python than the one running
    ``flowc run``: its tasks run on this interpreter (an environment is installed for it, not a
    Python), so the step would silently run on the wrong version. Checked before anything is locked."""
    from flowc.environments.install import running_python

    here = running_python()
    default = settings.get("pypi.python") or here
    others = [
        f"step {step.name} asks for Python {step.python_environment.python or default}"
        for step in ir.steps
        if step.python_environment is not None and (step.python_environment.python or default) != here
    ]
    if others:
        raise ResolveError(
            f"@pypi: {'; '.join(others)}, but flowc run starts tasks with this Python {here} (no "
            f"other interpreter is installed for a step): run flowc with that Python, or drop "
            "python= (and setting pypi.python) for local runs"
        )


def _top_level_modules(site: str) -> frozenset[str]:
    """The names a step may import from the installed environment ``site``."""
    import os

    names = set()
    for entry in os.listdir(site):
        name = entry[:-3] if entry.endswith(".py") else entry.split(".")[0]
        if name.isidentifier() and not entry.endswith((".dist-info", ".data")):
            names.add(name)
    return frozenset(names)
