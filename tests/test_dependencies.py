"""pyproject.toml declares what flowc imports, and nothing it does not (issue 13 item 10).

flowc's own imports (``ast``, function bodies included) are mapped to distributions with the
installed metadata (the dev environment has every extra installed). The Airflow DAG template's
imports count as uses of the ``airflow`` extra (its cncf-kubernetes provider); the DAG runs in the
Airflow environment, where pendulum and kubernetes come with Airflow and that provider.
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Extras used as such, not as groups of imports: ``test`` (tests, and the Argo schema check that
#: only tests call) and ``dev`` (all extras).
NOT_IMPORT_EXTRAS = ("test", "dev")


def _name(requirement: str) -> str:
    """Normalised distribution name of a requirement (``moto[server]>=5`` -> ``moto``)."""
    return re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _declared() -> dict[str, set[str]]:
    """``{"core": names, extra: names}`` from pyproject.toml."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    groups = {"core": {_name(r) for r in project["dependencies"]}}
    for extra, requirements in project["optional-dependencies"].items():
        groups[extra] = {_name(r) for r in requirements if not r.startswith("flowc[")}
    return groups


def _third_party(names: set[str]) -> set[str]:
    return {name for name in names if name.split(".")[0] not in sys.stdlib_module_names | {"flowc"}}


def _flowc_imports() -> set[str]:
    """Full names of the third-party absolute imports in flowc/."""
    names: set[str] = set()
    for path in (ROOT / "flowc").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module)
    return _third_party(names)


def _template_imports() -> set[str]:
    """Full names of the third-party imports of the DAG file flowc renders for Airflow."""
    template = (ROOT / "templates" / "airflow_dag.py.j2").read_text(encoding="utf-8")
    return _third_party(set(re.findall(r"^\s*(?:from|import) ([\w.]+)", template, re.MULTILINE)))


@functools.cache
def _installed() -> dict[str, list[str]]:
    return dict(importlib.metadata.packages_distributions())


def _distributions(module: str) -> set[str]:
    """The installed distributions that provide ``module``'s top-level package."""
    top = module.split(".")[0]
    return {name.lower() for name in _installed().get(top, [])}


def _provider(module: str) -> set[str]:
    """The distribution that provides ``module`` itself: in a namespace with many (``airflow``),
    the one named after the rest of the module path (``apache-airflow-providers-cncf-kubernetes``
    for ``airflow.providers.cncf.kubernetes...``), else all of them."""
    found = _distributions(module)
    for depth in range(len(module.split(".")), 1, -1):
        suffix = "-".join(module.split(".")[1:depth])
        specific = {name for name in found if name.endswith(suffix)}
        if len(found) > 1 and specific:
            return specific
    return found


def _meta_package_of(name: str, provided: set[str]) -> bool:
    """True for a distribution without modules that requires one of ``provided`` (Airflow 3's
    ``apache-airflow`` installs ``apache-airflow-core``, which holds the ``airflow`` package)."""
    requirements = importlib.metadata.requires(name) or []
    return any(_name(r) in provided for r in requirements if "extra ==" not in r)


def test_every_third_party_import_is_declared_and_every_declared_dependency_imported():
    declared = _declared()
    everything = set().union(*declared.values())
    modules = _flowc_imports()
    undeclared = sorted(m for m in modules if not _distributions(m) & everything)
    assert undeclared == []
    provided = set().union(*(_provider(m) for m in modules | _template_imports()))
    unused = {
        group: left
        for group, names in declared.items()
        if group not in NOT_IMPORT_EXTRAS
        and (left := sorted(n for n in names - provided if not _meta_package_of(n, provided)))
    }
    assert unused == {}
