"""What Argo cannot express, beyond the shared capability table: refused with step, line and reason."""

from __future__ import annotations

from collections.abc import Iterator

from flowc.backends.naming import is_dns_subdomain
from flowc.frontend.diagnostics import Diagnostic
from flowc.ir import FlowIR, Step

__all__ = ["argo_refusals"]

_HINT = "see docs/targets.md#argo"


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
        for secret in step.secrets:
            if not is_dns_subdomain(secret):
                yield refuse(
                    "secret-name",
                    step,
                    f"@secrets source {secret!r} is not a Kubernetes Secret name (lower-case DNS "
                    "subdomain); Argo passes secrets by Secret name only",
                )

    for parameter in ir.parameters:
        if getattr(parameter, "deferred_default", False):
            yield refuse(
                "deferred-default",
                None,
                f"parameter {parameter.name!r} has a callable default; a workflow argument needs its "
                "value written in the template (give a literal default)",
                line=parameter.location.line if parameter.location else None,
            )

    if ir.schedule is not None:
        missing = [p.name for p in ir.parameters if not p.has_default]
        if missing:
            yield refuse(
                "scheduled-required-parameters",
                None,
                f"a scheduled run has nobody to give parameter(s) {', '.join(missing)}; give them defaults",
            )
