"""A ``@pypi`` step under ``flowc run`` imports only its environment's packages (Metaflow's rule).

``flowc run`` does not start a fresh interpreter per task (a fork costs ~0, a fresh interpreter
~0.45 s here: docs/environments.md), so a ``@pypi`` task runs on the interpreter running ``flowc
run``, its environment's folder first on the path. Without more, a package the step does not
declare would still be imported from that interpreter's site-packages: a flow that forgot a
package would pass locally and fail in a pod, or with Metaflow. So the task installs an import
guard first thing (:func:`isolate`): a top-level import that would come from the interpreter's
site-packages fails with ``ModuleNotFoundError`` naming the environment, unless the module is
flowc's or one of the packages flowc runs on (its dependencies, as Metaflow's environments carry
its own). The standard library, the flow's folder and the environment itself are untouched; so
is a module the task had already imported before the guard (the runtime checks that none of the
environment's or the interpreter's other packages are, before forking: :func:`foreign_modules`).
"""

from __future__ import annotations

import importlib.machinery
import os
import re
import sys
from collections.abc import Mapping
from typing import Any

__all__ = ["ISOLATED_ENV", "foreign_modules", "isolate", "isolation_value", "runtime_modules", "site_roots"]

#: Set in a task's environment by ``flowc run``: the environment's name, then the top-level
#: modules a ``@pypi`` step may still import from the interpreter (``name:mod1,mod2``).
ISOLATED_ENV = "FLOWC_ENVIRONMENT_ISOLATED"
#: flowc's extras that tasks use when they run (the S3 datastore and AWS secrets need boto3).
_RUNTIME_EXTRAS = ("s3",)


def site_roots() -> tuple[str, ...]:
    """The interpreter's site-packages folders (where installed distributions live)."""
    import site

    roots = [r for r in (*site.getsitepackages(), site.getusersitepackages()) if r]
    # As written and resolved: a module's __file__ is compared as it is (no system call per module).
    forms = {os.path.join(form, "") for r in roots for form in (os.path.abspath(r), os.path.realpath(r))}
    return tuple(sorted(forms))


def runtime_modules() -> frozenset[str] | None:
    """The top-level modules of flowc's distribution and of every distribution it needs to run
    (its dependencies and the ``s3`` extra's, transitively); None when flowc is not installed as
    a distribution (then nothing is isolated: flowc's own imports could not be told apart).

    Read from the ``.dist-info`` folders directly: importing ``importlib.metadata`` alone costs
    more than a task's start (it pulls in ``email``, ``zipfile``, ``csv``)."""
    installed = _dist_infos(site_roots())
    if "flowc" not in installed:
        return None
    names: set[str] = {"flowc"}
    seen: set[str] = set()
    pending = [("flowc", _RUNTIME_EXTRAS)]
    while pending:
        name, extras = pending.pop()
        if name in seen or name not in installed:
            continue
        seen.add(name)
        folder = installed[name]
        names |= _top_level(folder)
        for requirement in _requires(folder):
            wanted, _, marker = requirement.partition(";")
            extra = re.search(r"extra\s*==\s*['\"]([^'\"]+)['\"]", marker)
            if extra and extra.group(1) not in extras:
                continue
            match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", wanted)
            if match:
                pending.append((_canonical(match.group(1)), ()))
    return frozenset(names)


def _canonical(name: str) -> str:
    """PEP 503's normalised name (``PyYAML`` and ``pyyaml`` are one distribution)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _dist_infos(roots: tuple[str, ...]) -> dict[str, str]:
    """Normalised distribution name -> its ``.dist-info`` folder, the first root winning."""
    found: dict[str, str] = {}
    for root in roots:
        try:
            entries = os.listdir(root)
        except OSError:
            continue
        for entry in entries:
            if entry.endswith(".dist-info"):
                found.setdefault(
                    _canonical(entry[: -len(".dist-info")].split("-")[0]), os.path.join(root, entry)
                )
    return found


def _read(folder: str, name: str) -> str:
    try:
        with open(os.path.join(folder, name), encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return ""


def _requires(folder: str) -> list[str]:
    """The ``Requires-Dist`` values of a distribution's METADATA (its headers end at a blank line)."""
    headers = _read(folder, "METADATA").split("\n\n", 1)[0]
    return [
        line.split(":", 1)[1].strip() for line in headers.splitlines() if line.startswith("Requires-Dist:")
    ]


def _top_level(folder: str) -> set[str]:
    listed = _read(folder, "top_level.txt")
    if listed.strip():
        return {line.strip() for line in listed.splitlines() if line.strip()}
    found = set()
    for line in _read(folder, "RECORD").splitlines():
        first = line.split(",", 1)[0].split("/")[0]
        if first.endswith((".dist-info", ".data", ".pth")) or first in ("..", "__pycache__"):
            continue
        name = first[:-3] if first.endswith(".py") else first
        if name.isidentifier():
            found.add(name)
    return found


def _origin(spec: importlib.machinery.ModuleSpec) -> str | None:
    if spec.origin and spec.origin not in ("built-in", "frozen"):
        return spec.origin
    locations = list(spec.submodule_search_locations or ())
    return locations[0] if locations else None


def _under(path: str, roots: tuple[str, ...]) -> bool:
    return path.startswith(roots) or os.path.realpath(path).startswith(roots)


class _ImportGuard:
    """A meta path finder (https://docs.python.org/3/reference/import.html#the-meta-path) that
    refuses a top-level import the interpreter's site-packages would answer (see the module)."""

    def __init__(self, environment: str, allowed: frozenset[str], roots: tuple[str, ...]) -> None:
        self.environment, self.allowed, self.roots = environment, allowed, roots

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if path is not None or name in self.allowed or name in sys.builtin_module_names:
            return None  # submodules follow their package; the others are not ours to refuse
        spec = importlib.machinery.PathFinder.find_spec(name)
        origin = _origin(spec) if spec is not None else None
        if origin is not None and _under(origin, self.roots):
            raise ModuleNotFoundError(
                f"No module named {name!r} in the @pypi environment {self.environment} of this step: "
                f"add it to the step's @pypi (or the flow's @pypi_base) packages (flowc run gives a "
                "@pypi step its environment's packages, flowc's and the standard library only, as a "
                "Metaflow @pypi step has)",
                name=name,
            )
        return None


def isolate(environ: Mapping[str, str] | None = None) -> None:
    """Installs the import guard when ``environ`` (default: this process's) asks for it."""
    value = (os.environ if environ is None else environ).get(ISOLATED_ENV)
    if not value or any(isinstance(f, _ImportGuard) for f in sys.meta_path):
        return
    environment, _, names = value.partition(":")
    allowed = frozenset(n for n in names.split(",") if n)
    sys.meta_path.insert(0, _ImportGuard(environment, allowed, site_roots()))


def isolation_value(environment: str, allowed: frozenset[str]) -> str:
    """The value of :data:`ISOLATED_ENV` for ``environment``."""
    return f"{environment}:{','.join(sorted(allowed))}"


def foreign_modules(
    imported: Mapping[str, Any], allowed: frozenset[str], roots: tuple[str, ...]
) -> list[str]:
    """Top-level modules in ``imported`` (``sys.modules``) that came from the interpreter's
    site-packages and are not flowc's nor its dependencies': a task forked from this process would
    find them loaded, past the guard. Private names (``_distutils_hack``, editable-install finders)
    are what ``site`` loads at start-up: not the flow's."""
    found = []
    for name, module in list(imported.items()):
        if "." in name or name.startswith("_") or name in allowed:
            continue
        file = getattr(module, "__file__", None)
        if isinstance(file, str) and file.startswith(roots):
            found.append(name)
    return sorted(found)
