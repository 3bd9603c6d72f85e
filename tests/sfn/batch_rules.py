"""What the real AWS APIs would refuse in a state machine's service requests, checked in the harness.

moto's Step Functions interpreter calls its own services with botocore's parameter validation off
and coerces values to the types the API wants (a number where a string belongs becomes its JSON
text), and moto's Batch accepts any job name, timeout or override size. So a request the real
service would refuse could pass here. :func:`request_problems` checks every request the harness
forwards, as AWS would:

* the request, with keys matched to the API's names but *values as the state machine sent them*,
  against botocore's model of the operation (unknown fields, missing required fields, types:
  ``ResourceRequirements`` values must be strings);
* Batch ``SubmitJob``'s documented rules the model does not carry: the job name
  (https://docs.aws.amazon.com/batch/latest/APIReference/API_SubmitJob.html), the timeout's 60 s
  minimum (API_JobTimeout.html), environment names Batch reserves, resource types, and the 8,192
  characters of container overrides (API_ContainerOverrides.html).
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["matched_keys", "request_problems"]

_JOB_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")
_OVERRIDES_LIMIT = 8192
_RESOURCE_TYPES = {"GPU", "MEMORY", "VCPU"}


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def matched_keys(value: Any, shape: Any) -> Any:
    """``value`` with structure keys renamed to ``shape``'s member names, values left untouched."""
    kind = getattr(shape, "type_name", None)
    if kind == "structure" and isinstance(value, dict):
        members = {_snake(name): name for name in shape.members}
        renamed = {}
        for key, item in value.items():
            member = members.get(_snake(key))
            renamed[member or key] = matched_keys(item, shape.members[member]) if member else item
        return renamed
    if kind == "list" and isinstance(value, list):
        return [matched_keys(item, shape.member) for item in value]
    if kind == "map" and isinstance(value, dict):
        return {key: matched_keys(item, shape.value) for key, item in value.items()}
    return value


def _submit_job_problems(request: dict[str, Any]) -> list[str]:
    problems = []
    name = request.get("jobName", "")
    if not _JOB_NAME.match(str(name)):
        problems.append(
            f"jobName {name!r}: up to 128 letters, digits, '-' and '_', the first alphanumeric"
        )
    seconds = (request.get("timeout") or {}).get("attemptDurationSeconds")
    if seconds is not None and seconds < 60:
        problems.append(f"timeout.attemptDurationSeconds {seconds}: the minimum is 60")
    overrides = request.get("containerOverrides") or {}
    for variable in overrides.get("environment") or []:
        if str(variable.get("name", "")).upper().startswith("AWS_BATCH"):
            problems.append(f"environment variable {variable.get('name')!r}: AWS_BATCH* names are reserved")
    for requirement in overrides.get("resourceRequirements") or []:
        if requirement.get("type") not in _RESOURCE_TYPES:
            problems.append(f"resourceRequirements type {requirement.get('type')!r}")
        try:
            float(requirement.get("value"))
        except (TypeError, ValueError):
            problems.append(f"resourceRequirements value {requirement.get('value')!r} is not a number")
    size = len(json.dumps(overrides))
    if size > _OVERRIDES_LIMIT:
        problems.append(f"containerOverrides are {size} characters; the limit is {_OVERRIDES_LIMIT}")
    return problems


def request_problems(operation: Any, parameters: dict[str, Any]) -> list[str]:
    """Why the real service would refuse ``parameters`` (the state machine's, PascalCase) for
    ``operation`` (a botocore operation model); empty if it would accept them."""
    from botocore.validate import ParamValidator

    request = matched_keys(parameters, operation.input_shape)
    report = ParamValidator().validate(request, operation.input_shape)
    problems = [report.generate_report()] if report.has_errors() else []
    if operation.name == "SubmitJob":
        problems += _submit_job_problems(request)
    return problems
