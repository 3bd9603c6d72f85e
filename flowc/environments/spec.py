"""A step's declared environment: ``@pypi`` merged over ``@pypi_base`` as Metaflow merges them.

Metaflow's ``@pypi`` "augments" ``@pypi_base``: the step's packages are added to the flow's, a
package named by both takes the step's version, ``python`` is the step's if given, else the flow's
(https://docs.metaflow.org/api/step-decorators/pypi). ``disabled=True`` on the step leaves it
without an environment. A version is written as Metaflow writes it: ``"2.2.3"`` pins
(``==2.2.3``), a specifier (``">=2,<3"``) is kept, ``""`` takes any version.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flowc.environments.install import ENVIRONMENT_ENV
from flowc.ir import PythonEnvironment, Step

__all__ = ["ENVIRONMENT_ENV", "PypiDeclaration", "declaration", "step_environment", "step_variables"]

_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?(\[[A-Za-z0-9._,-]+\])?$")
_PYTHON = re.compile(r"^3\.\d+(\.\d+)?$")
_SPECIFIER = re.compile(r"^(==|!=|<=|>=|~=|<|>|===)")


@dataclass(frozen=True)
class PypiDeclaration:
    """What one ``@pypi`` or ``@pypi_base`` says (arguments checked)."""

    packages: tuple[tuple[str, str], ...] = ()
    python: str | None = None
    disabled: bool = False


def declaration(arguments: dict[str, Any]) -> PypiDeclaration:
    """The decorator's arguments checked; ValueError says what is wrong."""
    packages = arguments.get("packages") or {}
    if not isinstance(packages, dict):
        raise ValueError(f"packages must be a dict of package names to versions, not {packages!r}")
    checked = []
    for name, version in packages.items():
        if not isinstance(name, str) or not _NAME.match(name):
            raise ValueError(f"{name!r} is not a package name")
        if version is None:
            version = ""
        if not isinstance(version, str) or any(c in version for c in " ;@\n"):
            raise ValueError(f"the version of {name} must be like '2.2.3' or '>=2,<3', not {version!r}")
        checked.append((name, version))
    python = arguments.get("python")
    if python is not None:
        python = str(python)
        if not _PYTHON.match(python):
            raise ValueError(f"python must be a version like '3.11' or '3.11.9', not {python!r}")
        python = ".".join(python.split(".")[:2])  # wheels are built per minor version
    return PypiDeclaration(tuple(sorted(checked)), python, bool(arguments.get("disabled", False)))


def _requirement(name: str, version: str) -> str:
    if not version:
        return name
    return f"{name}{version}" if _SPECIFIER.match(version) else f"{name}=={version}"


def _canonical(name: str) -> str:
    """PEP 503 normalised name (``Foo_Bar`` and ``foo-bar`` are one package)."""
    return re.sub(r"[-_.]+", "-", name.split("[")[0]).lower()


def step_environment(base: PypiDeclaration | None, own: PypiDeclaration | None) -> PythonEnvironment | None:
    """The environment of a step with flow-level ``base`` and its own ``own`` (either may be None)."""
    if own is not None and own.disabled:
        return None
    if base is None and own is None:
        return None
    packages: dict[str, tuple[str, str]] = {}
    for declared in (base, own):
        for name, version in declared.packages if declared else ():
            packages[_canonical(name)] = (name, version)
    python = (own.python if own else None) or (base.python if base else None)
    requirements = tuple(_requirement(*packages[key]) for key in sorted(packages))
    text = json.dumps({"python": python, "requirements": requirements}, sort_keys=True)
    name = "pypi-" + hashlib.sha256(text.encode()).hexdigest()[:16]
    return PythonEnvironment(requirements=requirements, python=python, name=name)


def step_variables(step: Step) -> Mapping[str, str]:
    """The variables a deployed task of ``step`` needs for its environment (its name; none without
    ``@pypi``): the bootstrap installs it before the task runner starts."""
    if step.python_environment is None:
        return {}
    return {ENVIRONMENT_ENV: step.python_environment.name}
