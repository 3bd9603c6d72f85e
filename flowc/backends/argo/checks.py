"""What Argo cannot express, beyond the shared capability table: refused with step, line and reason."""

from __future__ import annotations

import re
from collections.abc import Iterator

from flowc.backends.argo.capabilities import SHAPE_LIMIT
from flowc.backends.argo.containers import OWN_PARAMETERS
from flowc.backends.pod import pod_refusals
from flowc.diagnostics import Diagnostic, refuse_step
from flowc.ir import FlowIR, Step

__all__ = ["argo_refusals"]

_HINT = "see docs/targets.md#argo"
#: Argo's rule for parameter names (pkg/apis/workflow/v1alpha1/validation_utils.go,
#: ``paramOrArtifactNameRegex``).
_PARAMETER_NAME = re.compile(r"[-a-zA-Z0-9_]+")


def argo_refusals(ir: FlowIR, namespace: str) -> Iterator[Diagnostic]:
    """Diagnostics for constructs of ``ir`` that the Argo back end cannot lower."""
    from flowc.backends.argo.regions import analyse_regions

    def refuse(code: str, step: Step | None, message: str, line: int | None = None) -> Diagnostic:
        return refuse_step(ir, step, f"argo-{code}", f"argo cannot express this: {message}", _HINT, line=line)

    try:
        analyse_regions(ir)
    except ValueError as exc:
        step_name, reason = exc.args
        step = ir.step(step_name) if step_name in ir.step_names else None
        yield refuse_step(ir, step, SHAPE_LIMIT, f"argo cannot express this: {reason}", _HINT)

    for step in ir.steps:
        spec = step.container
        if spec.namespace and spec.namespace != namespace:
            yield refuse(
                "step-namespace",
                step,
                f"every pod of a workflow runs in the workflow's namespace ({namespace!r}); "
                f"this step asks for {spec.namespace!r} (deploy with --namespace instead)",
            )

    yield from pod_refusals(ir, "argo", [(step,) for step in ir.steps])

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

    if ir.schedule is not None:
        # A required parameter without default is refused for every target (backends.base); an
        # optional one without default has no value on Argo either: a workflow argument needs one.
        missing = [
            p.name for p in ir.parameters if not p.has_default and not p.required and not p.deferred_default
        ]
        if missing:
            yield refuse(
                "scheduled-optional-parameters",
                None,
                f"a scheduled run has no value for parameter(s) {', '.join(missing)} (no default); "
                "give them defaults",
                line=ir.schedule.line,
            )
