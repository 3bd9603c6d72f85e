"""``@project`` branches: the one place that decides which branch a deployment or a run belongs to.

Metaflow's scheme (https://docs.metaflow.org/production/coordinating-larger-metaflow-projects):
``prod`` for ``--production``, ``prod.<name>`` for ``--production --branch <name>``, ``test.<name>``
for ``--branch <name>``, else the user's own branch ``user.<name>``. Every target names its
deployment with it (``<project>.<branch>.<Flow>`` or its DNS/AWS-safe form), and the task runner
shows it to the step as ``current.branch_name``, ``current.is_production`` and
``current.project_flow_name``; a deployed task learns it from :data:`BRANCH_ENV`, which each target
sets in the task's environment, so every engine's tasks see the branch the deployment was named by.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flowc.config import Settings
    from flowc.ir import FlowIR

__all__ = ["BRANCH_ENV", "Branch", "branch_from_environment", "project_branch", "task_environment"]

#: The environment variable carrying a deployed task's branch (``prod``, ``test.x``, ``user.alice``).
BRANCH_ENV = "FLOWC_PROJECT_BRANCH"
#: Metaflow allows letters, digits, ``_``, ``-`` and ``.`` in a branch name; so do we.
_BRANCH_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclass(frozen=True)
class Branch:
    """A ``@project`` branch: its name (``prod``, ``test.x``, ``user.alice``) and whether it is production."""

    name: str
    production: bool

    @property
    def is_user_branch(self) -> bool:
        """Metaflow's ``current.is_user_branch``: neither ``--production`` nor ``--branch`` chose it."""
        return self.name.startswith("user.")

    def flow_name(self, project: str, flow: str) -> str:
        """Metaflow's ``current.project_flow_name``: ``<project>.<branch>.<Flow>``."""
        return f"{project}.{self.name}.{flow}"


def project_branch(settings: Settings, environ: Mapping[str, str] | None = None) -> Branch:
    """The branch that settings ``project.production`` / ``project.branch`` (and the user) select.

    Args:
        settings: effective configuration (``--production``, ``--branch`` land there).
        environ: where the user's name is read (``FLOWC_USER``, ``USER``, ...); the process's own
            environment by default.

    Raises:
        ValueError: for a branch name with characters Metaflow does not allow.
    """
    branch = settings.get("project.branch")
    if branch and not _BRANCH_NAME.match(str(branch)):
        raise ValueError(
            f"@project branch {branch!r} may hold only letters, digits, '_', '-' and '.'"
        )
    if settings.get("project.production"):
        return Branch(f"prod.{branch}" if branch else "prod", production=True)
    if branch:
        return Branch(f"test.{branch}", production=False)
    from flowc.metadata import current_user

    return Branch(f"user.{current_user(environ)}", production=False)


def task_environment(
    ir: FlowIR, settings: Settings, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """What a deployed task's environment needs for ``current``'s project facts (empty without @project),
    the default provider of bare ``@secrets`` sources (setting ``secrets.default_provider``),
    the ``--with`` decorators the flow was compiled with (the task runner applies them too), and
    the values its ``Config`` attributes were given (the task runner builds the same IR with them).

    ``environ`` is where a user branch's name is read, as in :func:`project_branch`.
    """

    from flowc.frontend.configs import config_environment
    from flowc.frontend.decospecs import with_environment

    environment = dict(with_environment(ir))
    environment.update(config_environment(ir.config_values()))
    if ir.project is not None:
        environment[BRANCH_ENV] = project_branch(settings, environ).name
    provider = settings.get("secrets.default_provider")
    if provider and any(step.secrets for step in ir.steps):
        # The task reads bare @secrets sources with it (flowc/secret_sources.py); never a value.
        environment["FLOWC_SECRETS__DEFAULT_PROVIDER"] = str(provider)
    return environment


def branch_from_environment(environ: Mapping[str, str] | None = None) -> Branch | None:
    """The branch a target set for this task (:data:`BRANCH_ENV`), or None when none was set."""
    name = (os.environ if environ is None else environ).get(BRANCH_ENV)
    if not name:
        return None
    return Branch(name, production=name == "prod" or name.startswith("prod."))

