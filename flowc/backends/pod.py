"""One Kubernetes pod per task: the pod that Argo's container templates and Airflow's
KubernetesPodOperator only render, and what either target refuses in it.

Policy, the same on both targets:

* resources: ``@resources`` (merged with ``@kubernetes``/``@batch`` hints by the front end) become
  requests (``cpu``, ``memory``, ``ephemeral-storage``); memory is also the limit, as AWS Batch
  enforces a job's memory on Step Functions, so a step that outgrows what it declared is killed by
  the out-of-memory killer everywhere (and the kernel reports it as such); a GPU count is a limit
  (extended resources are set as limits: https://kubernetes.io/docs/tasks/manage-gpus/scheduling-gpus/).
  CPU is kept to the millicore, rounded up (:func:`quantity_cpu`).
* ``@kubernetes(shared_memory=)``: a memory-backed ``/dev/shm`` (a container's is 64 MiB otherwise:
  https://kubernetes.io/docs/concepts/storage/volumes/#emptydir).
* ``@secrets``: Kubernetes Secrets by name (``envFrom``); the values never pass through flowc.
* ``@environment``: env values with every ``$`` doubled (:func:`env_value`).
* a task that runs several steps (an Airflow region) asks for the largest resources of its steps
  and every step's secrets and environment; its placement (image, namespace, service account,
  node selector, tolerations, image pull secrets) must be the same for all of them, or it is refused.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from flowc.backends.naming import is_dns_subdomain
from flowc.diagnostics import Diagnostic, refuse_step
from flowc.environments.spec import step_variables
from flowc.ir import FlowIR, Step, Toleration
from flowc.secret_sources import kubernetes_secret_names

__all__ = [
    "SHM_VOLUME",
    "PodSpec",
    "env_value",
    "pod_refusals",
    "pod_spec",
    "quantity_cpu",
    "quantity_mebibytes",
]

#: The name of the memory-backed volume mounted at /dev/shm.
SHM_VOLUME = "dshm"

# Kubernetes' rules for what a pod spec names (https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#syntax-and-character-set,
# https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/): the API server
# refuses a pod that breaks them, so every attempt of the step would fail before it starts.
_LABEL_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_TOLERATION_OPERATORS = ("Exists", "Equal")
_TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
#: What a region's steps must agree on: one pod runs them all.
_PLACEMENT = ("image", "namespace", "service_account", "node_selector", "tolerations", "image_pull_secrets")


@dataclass(frozen=True)
class PodSpec:
    """What a task's pod holds beyond its command: every field already decided, nothing rendered.

    Attributes:
        image: the container image.
        namespace / service_account: the step's own (None: the target's default applies).
        environment: ``@environment`` as written (sorted); renderers pass values through
            :func:`env_value`.
        secrets: Kubernetes Secret names whose keys become environment variables, in order.
        requests / limits: resource quantities by resource name (sorted).
        shared_memory: the size of a memory-backed /dev/shm (None: the container's default).
    """

    image: str
    namespace: str | None = None
    service_account: str | None = None
    node_selector: tuple[tuple[str, str], ...] = ()
    tolerations: tuple[Toleration, ...] = ()
    image_pull_secrets: tuple[str, ...] = ()
    environment: tuple[tuple[str, str], ...] = ()
    secrets: tuple[str, ...] = ()
    requests: tuple[tuple[str, str], ...] = ()
    limits: tuple[tuple[str, str], ...] = ()
    shared_memory: str | None = None


def quantity_cpu(cores: float) -> str:
    """Kubernetes CPU quantity: whole cores as ``"2"``, fractions in millicores (``"500m"``).

    Kubernetes keeps CPU to the millicore, so a fraction is rounded *up*: a step never asks for
    less than it declared, and a tiny request stays a request (``1m``, not ``0m``).
    """
    if float(cores).is_integer():
        return str(int(cores))
    return f"{max(1, math.ceil(cores * 1000 - 1e-9))}m"


def quantity_mebibytes(mebibytes: int) -> str:
    """A memory or disk quantity: ``"4096Mi"``."""
    return f"{int(mebibytes)}Mi"


def env_value(value: str) -> str:
    """``value`` as a container env value that Kubernetes passes on unchanged.

    Kubernetes expands ``$(NAME)`` in env values and reduces ``$$`` to ``$``
    (https://kubernetes.io/docs/tasks/inject-data-application/define-interdependent-environment-variables/),
    so every ``$`` is doubled.
    """
    return str(value).replace("$", "$$")


def pod_spec(
    steps: Sequence[Step],
    *,
    image: str,
    namespace: str | None = None,
    service_account: str | None = None,
    resources: bool = True,
) -> PodSpec:
    """The pod of a task running ``steps`` (one step, or an Airflow region's steps in order).

    Args:
        steps: the task's steps; placement comes from the first (:func:`pod_refusals` has checked
            that the others agree).
        image: the image when the steps name none (setting ``image``).
        namespace / service_account: the target's defaults when the steps name none.
        resources: False for a task that only reads the datastore (the end-of-run task).
    """
    first = steps[0].container
    environment: dict[str, str] = {}
    for step in steps:
        environment.update(dict(step.environment))
    if len(steps) == 1:
        # its @pypi environment's name (the bootstrap installs it). A region's runner runs flowc
        # only: each step's task enters its own environment (flowc/task_runner/environment.py).
        environment.update(step_variables(steps[0]))
    requests: dict[str, str] = {}
    limits: dict[str, str] = {}
    shared_memory = None
    if resources:
        requests, limits = _resources(steps)
        largest = max((s.container.shared_memory_mb or 0 for s in steps), default=0)
        shared_memory = quantity_mebibytes(largest) if largest else None
    return PodSpec(
        image=first.image or image,
        namespace=first.namespace or namespace,
        service_account=first.service_account or service_account,
        node_selector=first.node_selector,
        tolerations=first.tolerations,
        image_pull_secrets=first.image_pull_secrets,
        environment=tuple(sorted(environment.items())),
        # In the order written: when two Secrets hold the same key, the later one's value wins.
        secrets=tuple(dict.fromkeys(name for s in steps for name in kubernetes_secret_names(s.secrets))),
        requests=tuple(sorted(requests.items())),
        limits=tuple(sorted(limits.items())),
        shared_memory=shared_memory,
    )


def _resources(steps: Sequence[Step]) -> tuple[dict[str, str], dict[str, str]]:
    """Requests and limits: the largest of each resource over ``steps`` (see the module docstring)."""

    def largest(values: Iterable[float | int | None]) -> float | int | None:
        return max((v for v in values if v is not None), default=None)

    cpu = largest(s.resources.cpu for s in steps)
    memory = largest(s.resources.memory_mb for s in steps)
    disk = largest(s.resources.disk_mb for s in steps)
    gpu = largest(s.resources.gpu or None for s in steps)
    requests: dict[str, str] = {}
    limits: dict[str, str] = {}
    if cpu is not None:
        requests["cpu"] = quantity_cpu(cpu)
    if memory is not None:
        requests["memory"] = limits["memory"] = quantity_mebibytes(int(memory))
    if disk is not None:
        requests["ephemeral-storage"] = quantity_mebibytes(int(disk))
    if gpu:
        limits["nvidia.com/gpu"] = str(int(gpu))
    return requests, limits


def pod_refusals(ir: FlowIR, target: str, tasks: Iterable[Sequence[Step]]) -> Iterator[Diagnostic]:
    """What ``target`` (``argo`` or ``airflow``) refuses in the pods of ``tasks`` (each a sequence
    of the steps one pod runs): settings Kubernetes has no place for, names the API server would
    refuse, and steps of one pod that ask for different placements."""
    hint = f"see docs/targets.md#{target}"

    def refuse(step: Step, code: str, message: str, advice: str = hint) -> Diagnostic:
        return refuse_step(ir, step, f"{target}-{code}", f"{target} cannot express this: {message}", advice)

    for steps in tasks:
        for step in steps:
            spec = step.container
            if spec.queue or spec.iam_role:
                yield refuse(
                    step,
                    "batch-settings",
                    "@batch queue / iam_role are AWS Batch settings with no Kubernetes equivalent",
                    "use @kubernetes(service_account=...) for the pod's identity, or deploy to sfn",
                )
            for problem in _pod_problems(step):
                yield refuse(step, "pod-spec", f"Kubernetes would refuse the step's pod: {problem}")
            for secret in kubernetes_secret_names(step.secrets):
                if secret.startswith("arn:"):
                    yield refuse(
                        step,
                        "secret-name",
                        f"@secrets source {secret!r} is an AWS ARN; a pod reads Kubernetes Secrets "
                        "by name only",
                        "copy the secret into a Kubernetes Secret (e.g. with the External Secrets "
                        "Operator) and name that Secret, or deploy to sfn",
                    )
                elif not is_dns_subdomain(secret):
                    yield refuse(
                        step,
                        "secret-name",
                        f"@secrets source {secret!r} is not a Kubernetes Secret name (lower-case DNS "
                        "subdomain); pods read secrets by Secret name only",
                    )
        yield from _placement_problems(steps, refuse)


def _placement_problems(steps: Sequence[Step], refuse) -> Iterator[Diagnostic]:
    first = steps[0]
    for step in steps[1:]:
        differing = [f for f in _PLACEMENT if getattr(step.container, f) != getattr(first.container, f)]
        if differing:
            yield refuse(
                step,
                "region-placement",
                f"steps {', '.join(s.name for s in steps)} run in one pod (a loop, or a switch "
                f"inside a foreach), but {step.name!r} asks for another {', '.join(differing)} "
                f"than {first.name!r}",
                "give the steps of the region the same @kubernetes image and placement",
            )


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
