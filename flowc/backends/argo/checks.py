"""What Argo cannot express, beyond the shared capability table: refused with step, line and reason."""

from __future__ import annotations

import re
from collections.abc import Iterator

from flowc.backends.argo.containers import OWN_PARAMETERS
from flowc.backends.naming import is_dns_subdomain
from flowc.frontend.diagnostics import Diagnostic
from flowc.ir import FlowIR, Step

__all__ = ["argo_refusals"]

_HINT = "see docs/targets.md#argo"
#: Argo's rule for parameter names (pkg/apis/workflow/v1alpha1/validation_utils.go,
#: ``paramOrArtifactNameRegex``).
_PARAMETER_NAME = re.compile(r"[-a-zA-Z0-9_]+")

# Kubernetes' rules for what a pod spec names (https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#syntax-and-character-set,
# https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/): the API server
# refuses a pod that breaks them, so every attempt of the step would fail before it starts.
_LABEL_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_TOLERATION_OPERATORS = ("Exists", "Equal")
_TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")


def _label_key_problem(key: str) -> str | None:
    prefix, _, name = key.rpartition("/")
    if prefix and not is_dns_subdomain(prefix):
        return f"the prefix {prefix!r} of {key!r} is not a DNS subdomain"
    if len(name) > 63 or not _LABEL_NAME.fullmatch(name):
        rule = "at most 63 letters, digits, '-', '_' or '.', optionally after 'prefix/'"
        return f"{key!r} is not a label key ({rule})"
    return None


def _label_value_problem(value: str) -> str | None:
    if value and (len(value) > 63 or not _LABEL_NAME.fullmatch(value)):
        return f"{value!r} is not a label value (at most 63 letters, digits, '-', '_' or '.')"
    return None


def _pod_problems(step: Step) -> Iterator[str]:
    """What the Kubernetes API server would refuse in ``step``'s pod settings."""
    spec = step.container
    for key, value in spec.node_selector:
        problem = _label_key_problem(key) or _label_value_problem(value)
        if problem:
            yield f"node_selector: {problem}"
    for toleration in spec.tolerations:
        if toleration.key:
            problem = _label_key_problem(toleration.key)
            if problem:
                yield f"toleration: {problem}"
        if toleration.operator not in (None, *_TOLERATION_OPERATORS):
            yield f"toleration operator {toleration.operator!r} is not one of {_TOLERATION_OPERATORS}"
        if toleration.effect not in (None, *_TAINT_EFFECTS):
            yield f"toleration effect {toleration.effect!r} is not one of {_TAINT_EFFECTS}"
        if toleration.operator == "Exists" and toleration.value:
            yield "a toleration with operator Exists cannot have a value"
        if not toleration.key and toleration.operator != "Exists":
            yield "a toleration without a key must have operator Exists"
        if toleration.value:
            problem = _label_value_problem(toleration.value)
            if problem:
                yield f"toleration: {problem}"
    if spec.service_account and not is_dns_subdomain(spec.service_account):
        yield f"service_account {spec.service_account!r} is not a Kubernetes name (lower-case DNS subdomain)"
    for secret in spec.image_pull_secrets:
        if not is_dns_subdomain(secret):
            yield f"image pull secret {secret!r} is not a Secret name (lower-case DNS subdomain)"
    if spec.image is not None and (not spec.image.strip() or any(c.isspace() for c in spec.image)):
        yield f"image {spec.image!r} is not an image reference"


def _line(step: Step | None) -> int | None:
    return step.location.line if step is not None and step.location else None


def argo_refusals(ir: FlowIR, namespace: str) -> Iterator[Diagnostic]:
    """Diagnostics for constructs of ``ir`` that the Argo back end cannot lower."""
    from flowc.backends.argo.regions import analyse_regions

    def refuse(code: str, step: Step | None, message: str, line: int | None = None) -> Diagnostic:
        return Diagnostic(
            code=f"argo-{code}",
            message=f"argo cannot express this: {message}",
            file=ir.source_file,
            line=line if line is not None else _line(step),
            step=step.name if step is not None else None,
            hint=_HINT,
        )

    try:
        analyse_regions(ir)
    except ValueError as exc:
        step_name, reason = exc.args
        step = ir.step(step_name) if step_name in ir.step_names else None
        yield refuse("unsupported-shape", step, reason)

    for step in ir.steps:
        spec = step.container
        if spec.namespace and spec.namespace != namespace:
            yield refuse(
                "step-namespace",
                step,
                f"every pod of a workflow runs in the workflow's namespace ({namespace!r}); "
                f"this step asks for {spec.namespace!r} (deploy with --namespace instead)",
            )
        if spec.queue or spec.iam_role:
            yield refuse(
                "batch-settings",
                step,
                "@batch queue / iam_role are AWS Batch settings with no Kubernetes equivalent; "
                "use @kubernetes (service_account) for pod identity",
            )
        for problem in _pod_problems(step):
            yield refuse("pod-spec", step, f"Kubernetes would refuse the step's pod: {problem}")
        for secret in step.secrets:
            if not is_dns_subdomain(secret):
                yield refuse(
                    "secret-name",
                    step,
                    f"@secrets source {secret!r} is not a Kubernetes Secret name (lower-case DNS "
                    "subdomain); Argo passes secrets by Secret name only",
                )

    for parameter in ir.parameters:
        line = parameter.location.line if parameter.location else None
        if not _PARAMETER_NAME.fullmatch(parameter.name):
            yield refuse(
                "parameter-name",
                None,
                f"parameter name {parameter.name!r} is not an Argo parameter name (letters, digits, "
                "'_' and '-' only); rename it",
                line=line,
            )
        elif parameter.name in OWN_PARAMETERS:
            yield refuse(
                "parameter-name",
                None,
                f"parameter name {parameter.name!r} is taken by the workflow's own parameters "
                f"({', '.join(OWN_PARAMETERS)}); rename it",
                line=line,
            )
        if getattr(parameter, "deferred_default", False):
            yield refuse(
                "deferred-default",
                None,
                f"parameter {parameter.name!r} has a callable default; a workflow argument needs its "
                "value written in the template (give a literal default)",
                line=parameter.location.line if parameter.location else None,
            )

    if ir.schedule is not None:
        # A required parameter without default is refused for every target (backends.base); an
        # optional one without default has no value on Argo either: a workflow argument needs one.
        missing = [p.name for p in ir.parameters if not p.has_default and not p.required]
        if missing:
            yield refuse(
                "scheduled-optional-parameters",
                None,
                f"a scheduled run has no value for parameter(s) {', '.join(missing)} (no default); "
                "give them defaults",
                line=ir.schedule.line,
            )
