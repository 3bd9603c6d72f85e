"""Where everything lives in a datastore (see docs/architecture.md, "Datastore layout").

Pure functions from identities to keys, shared by the task runner, the runtime, the client and
every back end's test harness, so the layout is written down exactly once.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "attempt_key",
    "cards_prefix",
    "deployment_key",
    "is_step_folder",
    "log_key",
    "object_key",
    "package_key",
    "parse_task_id",
    "run_key",
    "run_prefix",
    "runs_prefix",
    "status_key",
    "step_prefix",
    "tag_update_key",
    "tag_updates_prefix",
    "task_id",
    "task_key",
    "task_prefix",
]


def task_id(step: str, index_path: Sequence[int] = (), iteration: int = 0) -> str:
    """The task's id, unique within its run (docs/architecture.md, "Task identity").

    ``("start", [])`` -> ``"start"``; ``("body", [3, 1])`` at iteration 2 -> ``"body-3-1.2"``. A step
    name is a Python identifier (no ``-``, no ``.``), so the id reads back unambiguously.
    """
    path = "".join(f"-{i}" for i in index_path)
    return f"{step}{path}.{iteration}" if iteration else f"{step}{path}"


def parse_task_id(value: str, foreach_depth: int | None = None) -> tuple[str, tuple[int, ...], int]:
    """Inverse of :func:`task_id`: ``(step, index path, iteration)``.

    Raises:
        ValueError: ``value`` is not a task id (or, with ``foreach_depth``, has another number of
            foreach indices).
    """
    head, dot, iteration = value.partition(".")
    step, *indices = head.split("-")
    try:
        if not step.isidentifier() or (dot and not iteration.isdigit()):
            raise ValueError
        path = tuple(int(part) for part in indices)
    except ValueError:
        raise ValueError(f"{value!r} is not a flowc task id") from None
    if foreach_depth is not None and len(path) != foreach_depth:
        raise ValueError(f"task id {value!r} does not have {foreach_depth} foreach indices")
    return step, path, int(iteration or 0)


def object_key(sha: str) -> str:
    return f"objects/{sha[:2]}/{sha}"


def package_key(sha: str) -> str:
    """Where code package ``sha`` (the SHA-256 of its tar) is stored, gzip-compressed.

    Not an object: an object's name is the hash of its stored bytes, and a package's compressed
    bytes depend on the zlib build that made them (:mod:`flowc.package`). Beside it,
    ``environments.json`` (:func:`flowc.environments.install.deployed_locks_key`). The bootstrap
    program writes this key out itself (it runs before flowc can be imported).
    """
    return f"packages/{sha}/code.tar.gz"


def runs_prefix(flow: str) -> str:
    return f"runs/{flow}"


def run_prefix(flow: str, run_id: str) -> str:
    return f"runs/{flow}/{run_id}"


def run_key(flow: str, run_id: str) -> str:
    return f"{run_prefix(flow, run_id)}/run.json"


def status_key(flow: str, run_id: str) -> str:
    return f"{run_prefix(flow, run_id)}/status.json"


def tag_updates_prefix(flow: str, run_id: str) -> str:
    """The folder of a run's tag updates: one immutable object per ``add``/``remove``, merged on read,
    so concurrent updaters (processes, hosts, S3 clients) never overwrite each other's change.
    Its name is not an identifier, so it is never taken for a step (see :func:`is_step_folder`)."""
    return f"{run_prefix(flow, run_id)}/tags.d"


def tag_update_key(flow: str, run_id: str, name: str) -> str:
    return f"{tag_updates_prefix(flow, run_id)}/{name}.json"


def deployment_key(flow: str, engine: str, branch: str | None = None) -> str:
    """The record ``flowc deploy`` writes for the deployment of ``flow`` on ``engine`` (``argo``,
    ``step-functions``, ``airflow``), per @project ``branch``: what its runs are tagged with."""
    return f"deployments/{flow}/{engine}" + (f"/{branch}" if branch else "") + ".json"


def is_step_folder(name: str) -> bool:
    """True for a step's folder among a run folder's children (step names are identifiers)."""
    return name.isidentifier()


def step_prefix(flow: str, run_id: str, step: str) -> str:
    return f"{run_prefix(flow, run_id)}/{step}"


def task_prefix(flow: str, run_id: str, step: str, task: str) -> str:
    return f"{step_prefix(flow, run_id, step)}/{task}"


def task_key(flow: str, run_id: str, step: str, task: str) -> str:
    return f"{task_prefix(flow, run_id, step, task)}/task.json"


def attempt_key(flow: str, run_id: str, step: str, task: str, attempt: int) -> str:
    return f"{task_prefix(flow, run_id, step, task)}/attempt-{attempt}.json"


def log_key(flow: str, run_id: str, step: str, task: str, attempt: int, stream: str) -> str:
    if stream not in ("stdout", "stderr"):
        raise ValueError(f"unknown log stream {stream!r}")
    return f"{task_prefix(flow, run_id, step, task)}/attempt-{attempt}.{stream}"


def cards_prefix(flow: str, run_id: str, step: str, task: str, attempt: int) -> str:
    """The folder holding one attempt's cards: ``index.json`` and the HTML files it names."""
    return f"{task_prefix(flow, run_id, step, task)}/cards/attempt-{attempt}"
