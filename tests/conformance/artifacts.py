"""Reading every artifact of a run, and comparing two runs artifact by artifact.

Each target column of the conformance matrix (Argo, Step Functions, Airflow) runs a flow on its
engine against a fresh datastore, then compares with the local runtime's run of the same flow::

    from tests.conformance.artifacts import assert_same_artifacts, collect_artifacts
    from tests.conformance.matrix import local_reference

    expected = local_reference("linear_flow", tmp_path)                  # {(step, task_id): {...}}
    actual = collect_artifacts(engine_datastore_url, "LinearFlow", run_id)
    assert_same_artifacts(expected, actual)

``collect_artifacts`` works on any datastore URL (a local directory or ``s3://bucket/prefix``; for
S3 point boto3 at the moto server first, e.g. with the ``aws_env`` fixture). It reads only
successful tasks (those with ``task.json``), as the layout defines success.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = ["IGNORED_ARTIFACTS", "assert_same_artifacts", "collect_artifacts", "comparable", "diff_artifacts"]

#: Artifacts whose value legitimately differs between two runs of the same flow (names starting
#: with ``_`` are the runtime's own bookkeeping and are ignored too).
IGNORED_ARTIFACTS: frozenset[str] = frozenset()

Artifacts = dict[tuple[str, str], dict[str, Any]]


def collect_artifacts(datastore_url: str, flow_name: str, run_id: str) -> Artifacts:
    """Every artifact of every successful task of one run.

    Args:
        datastore_url: the datastore root the run wrote to (a path or ``s3://bucket/prefix``).
        flow_name: the flow's class name.
        run_id: the run's id in that datastore (``argo-...``, ``sfn-...``, ``airflow-...``, local ids).

    Returns:
        ``{(step, task_id): {artifact name: value}}``, without ignored artifacts.

    Raises:
        AssertionError: the run does not exist in that datastore.
    """
    from flowc.client.objects import Run
    from flowc.client.store import ClientStore

    store = ClientStore(datastore_url)
    try:
        run = Run(f"{flow_name}/{run_id}", datastore=store, _namespace_check=False)
    except KeyError as exc:
        raise AssertionError(f"no run {flow_name}/{run_id} in datastore {datastore_url}: {exc}") from None
    collected: Artifacts = {}
    for step in run:
        for task in step:
            if not task.successful:
                continue
            collected[(step.id, task.id)] = {
                artifact.id: artifact.data
                for artifact in task.artifacts
                if not artifact.id.startswith("_") and artifact.id not in IGNORED_ARTIFACTS
            }
    return collected


def comparable(value: Any) -> Any:
    """A form of ``value`` with a meaningful ``==``: exceptions by type and text, arrays as lists.

    What ``@catch`` stores (Metaflow's exception wrapper) compares by its ``type`` and ``exception``
    fields: its ``str()`` is the traceback, whose file paths differ between targets."""
    if isinstance(value, BaseException):
        if hasattr(value, "stacktrace"):
            return ("caught", value.type, value.exception)
        return ("exception", type(value).__name__, str(value))
    if type(value).__module__.startswith(("numpy", "pandas")):
        if hasattr(value, "to_dict"):
            return ("pandas", comparable(value.to_dict()))
        if hasattr(value, "tolist"):
            return ("numpy", str(getattr(value, "dtype", "")), comparable(value.tolist()))
    if isinstance(value, float) and math.isnan(value):
        return ("nan",)
    if isinstance(value, list | tuple):
        return type(value).__name__, [comparable(v) for v in value]
    if isinstance(value, dict):
        return "dict", sorted((repr(k), comparable(v)) for k, v in value.items())
    if isinstance(value, set | frozenset):
        return type(value).__name__, sorted(repr(comparable(v)) for v in value)
    return value


def diff_artifacts(expected: Mapping[tuple[str, str], Mapping[str, Any]], actual: Artifacts) -> list[str]:
    """Every difference between two collections, one line each (empty when they agree)."""
    problems = []
    for key in sorted(set(expected) - set(actual)):
        problems.append(f"task {key[0]}/{key[1]} is missing")
    for key in sorted(set(actual) - set(expected)):
        problems.append(f"task {key[0]}/{key[1]} is unexpected")
    for key in sorted(set(expected) & set(actual)):
        want, got = expected[key], actual[key]
        where = f"{key[0]}/{key[1]}"
        for name in sorted(set(want) - set(got)):
            problems.append(f"{where}: artifact {name!r} is missing")
        for name in sorted(set(got) - set(want)):
            problems.append(f"{where}: artifact {name!r} is unexpected ({got[name]!r})")
        for name in sorted(set(want) & set(got)):
            if comparable(want[name]) != comparable(got[name]):
                problems.append(f"{where}: artifact {name!r} is {got[name]!r}, expected {want[name]!r}")
    return problems


def assert_same_artifacts(expected: Mapping[tuple[str, str], Mapping[str, Any]], actual: Artifacts) -> None:
    """Asserts that two runs produced the same tasks with the same artifact values.

    Exceptions (``@catch`` variables) compare by type and message, numpy arrays and pandas objects
    by content; the assertion message lists every difference, not just the first.
    """
    problems = diff_artifacts(expected, actual)
    if problems:
        raise AssertionError(f"{len(problems)} artifact difference(s):\n  " + "\n  ".join(problems))
