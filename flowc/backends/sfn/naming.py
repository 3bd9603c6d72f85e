"""Names on AWS: state machines, job definitions, Batch job names, schedules and state names.

State machine and schedule names allow ``[A-Za-z0-9_-]`` up to 80 characters; job definitions and
job names up to 128. A name that must change to fit gets a stable hash of the original as a suffix
(see :func:`flowc.backends.naming.stable_hash`), so two flows never share a name.
https://docs.aws.amazon.com/step-functions/latest/apireference/API_CreateStateMachine.html
https://docs.aws.amazon.com/batch/latest/APIReference/API_RegisterJobDefinition.html
"""

from __future__ import annotations

import re

from flowc.backends.naming import stable_hash
from flowc.config import Settings
from flowc.ir import FlowIR
from flowc.project_branches import project_branch

__all__ = [
    "STATE_NAME_MAX",
    "aws_name",
    "deployment_name",
    "job_definition_name",
    "job_name",
    "state_name",
]

#: ASL state names are at most 80 characters.
STATE_NAME_MAX = 80
_AWS_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


def aws_name(text: str, max_length: int = 80) -> str:
    """``text`` made of ``[A-Za-z0-9_-]`` and at most ``max_length`` long (hash-suffixed if changed)."""
    if _AWS_NAME.match(text) and len(text) <= max_length:
        return text
    cleaned = re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-") or "x"
    suffix = stable_hash(text)
    return f"{cleaned[: max_length - len(suffix) - 1]}-{suffix}"


def deployment_name(ir: FlowIR, settings: Settings) -> str:
    """The state machine's (and the schedule's) name: ``<project>-<branch>-<flow>`` or the flow's name."""
    if ir.project is None:
        return aws_name(ir.name)
    # AWS names allow no '.': the branch's dots become '-' (``test.x`` -> ``test-x``), as on Argo.
    branch = project_branch(settings).name.replace(".", "-")
    return aws_name(f"{ir.project.name}-{branch}-{ir.name}")


def job_definition_name(ir: FlowIR, settings: Settings, step: str | None = None) -> str:
    """The Batch job definition of the flow, or of one step that needs its own (secrets, image)."""
    base = f"flowc-{deployment_name(ir, settings)}"
    return aws_name(base if step is None else f"{base}-{step}", max_length=128)


def state_name(base: str, copy: str = "") -> str:
    """A state name: ``base`` plus the copy's tag (the distributed copy of a foreach body)."""
    text = f"{base}{copy}"
    if len(text) <= STATE_NAME_MAX:
        return text
    suffix = stable_hash(text)
    return f"{text[: STATE_NAME_MAX - len(suffix) - 1]}~{suffix}"


def job_name(prefix: str, part: str) -> str:
    """A Batch job name ``<prefix>-<part>``: ``[A-Za-z0-9_-]``, at most 128, beginning alphanumeric.

    https://docs.aws.amazon.com/batch/latest/APIReference/API_SubmitJob.html (``jobName``)
    """
    name = aws_name(f"{prefix}-{part}", max_length=128)
    return name if name[0].isalnum() else aws_name(f"j{name}", max_length=128)
