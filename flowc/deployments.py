"""The deployment record: what ``flowc deploy`` writes beside the code package so that every run
of the deployment, whoever or whatever starts it (a schedule, ``flowc trigger``, the engine's UI),
is tagged as Metaflow tags production runs.

``deployments/<Flow>/<engine>[/<branch>].json`` (:func:`flowc.datastore.layout.deployment_key`) =
``{"flow", "engine", "production_token", "deployed_by", "tags"}``. The start task of an engine run
reads it (:func:`run_facts`): the run's user is the engine (``argo-workflows``, ``step-functions``,
``airflow``, as Metaflow's deployed runs have), it records ``deployed_by``, carries the system tag
``production:<token>`` (its production namespace) and the deployment's ``--tag`` values as user
tags. So the default namespace (``user:<you>``) does not list production runs, ``namespace(None)``
does, and ``namespace("production:<token>")`` lists exactly that deployment's runs. The token is
made on the first deploy and kept by every later one; ``flowc undeploy`` deletes the record.

Nothing here is in a compiled document: compile stays a pure function of the flow.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flowc.datastore import layout

__all__ = ["DeploymentRecord", "new_production_token", "read_deployment", "run_facts"]


@dataclass(frozen=True)
class DeploymentRecord:
    """One deployment's record (see the module docstring)."""

    flow: str
    engine: str
    production_token: str
    deployed_by: str
    tags: tuple[str, ...] = field(default=())
    branch: str | None = None

    @property
    def key(self) -> str:
        return layout.deployment_key(self.flow, self.engine, self.branch)

    def document(self) -> dict[str, Any]:
        return {
            "flow": self.flow,
            "engine": self.engine,
            "branch": self.branch,
            "production_token": self.production_token,
            "deployed_by": self.deployed_by,
            "tags": sorted(set(self.tags)),
        }


def new_production_token(flow: str) -> str:
    """A fresh token: the flow's name, lower case, and 8 random hex digits (Metaflow's shape)."""
    return f"{flow.lower()}-{secrets.token_hex(4)}"


def read_deployment(
    storage: Any, flow: str, engine: str, branch: str | None = None
) -> DeploymentRecord | None:
    """The record of ``flow``'s deployment on ``engine`` (and ``branch``), or None."""
    from flowc.metadata import read_json

    document = read_json(storage, layout.deployment_key(flow, engine, branch))
    if document is None:
        return None
    return DeploymentRecord(
        flow=str(document["flow"]),
        engine=str(document["engine"]),
        production_token=str(document["production_token"]),
        deployed_by=str(document["deployed_by"]),
        tags=tuple(document.get("tags") or ()),
        branch=document.get("branch"),
    )


@dataclass(frozen=True)
class RunFacts:
    """What the start task records on a run of a deployment."""

    user: str
    tags: tuple[str, ...]
    system_tags: tuple[str, ...]
    extra: Mapping[str, Any]


def run_facts(record: DeploymentRecord, runtime_tag: str, trigger_tags: Sequence[str] = ()) -> RunFacts:
    """The run's user, user tags (the deployment's and the trigger's), system tag and fields."""
    return RunFacts(
        user=runtime_tag,
        tags=tuple(sorted({*record.tags, *trigger_tags})),
        system_tags=(f"production:{record.production_token}",),
        extra={"deployed_by": record.deployed_by, "production_token": record.production_token},
    )
