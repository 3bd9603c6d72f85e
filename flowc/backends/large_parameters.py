"""Large parameter values travel through the datastore, not through the orchestrator.

Each engine caps what a run's arguments may hold (Step Functions: 256 KB of execution input,
https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html; Argo: the Workflow
object lives in etcd, whose requests are capped at 1.5 MiB,
https://etcd.io/docs/v3.5/dev-guide/limit/). A trigger therefore stores the largest values as
datastore objects (the value's JSON, UTF-8) until the rest is small, and hands the start task
their hashes; the task runner reads them back unchanged (docs/architecture.md, "Task runner
command line").
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from flowc.parameter_values import OBJECTS_KEY, TAGS_KEY

__all__ = ["OBJECTS_KEY", "json_size", "store_large_values", "store_run_tags"]


def json_size(values: Mapping[str, Any]) -> int:
    """Bytes of ``values`` as UTF-8 JSON."""
    return len(json.dumps(dict(values), ensure_ascii=False).encode("utf-8"))


def store_large_values(
    values: Mapping[str, Any], datastore: str | None, limit: int
) -> tuple[dict[str, Any], dict[str, str]]:
    """Stores the largest values until the others' JSON is at most ``limit`` bytes.

    Args:
        values: name -> value (text as typed, or JSON values).
        datastore: the datastore URL the run's tasks use (needed only when something is stored).
        limit: bytes the remaining values' JSON may take.

    Returns:
        (the values kept inline, ``{name: sha256}`` of the stored ones).

    Raises:
        ValueError: values must be stored and there is no datastore.
    """
    inline = dict(values)
    stored: dict[str, str] = {}
    if json_size(inline) <= limit:
        return inline, stored
    if not datastore:
        raise ValueError("parameters too large to pass inline and no datastore to store them in")
    from flowc.datastore.objects import ObjectStore
    from flowc.datastore.storage import open_storage

    objects = ObjectStore(open_storage(datastore))
    by_size = sorted(inline, key=lambda n: (-len(json.dumps(inline[n], ensure_ascii=False)), n))
    for name in by_size:
        if json_size(inline) <= limit:
            break
        sha, _ = objects.put(json.dumps(inline.pop(name), ensure_ascii=False).encode("utf-8"))
        stored[name] = sha
    return inline, stored


def store_run_tags(tags: Sequence[str], datastore: str | None) -> dict[str, str]:
    """``{TAGS_KEY: sha}`` of the run's tags (``flowc trigger --tag``) stored as one object, to go
    among a trigger's stored values (``$objects``); empty without tags.

    Every target already hands ``$objects`` to the start task (Argo: its ``flowc-parameter-objects``
    argument), so the tags reach the run on every target with no change to the documents."""
    if not tags:
        return {}
    from flowc.ids import check_tag

    for tag in tags:
        check_tag(tag)
    if not datastore:
        raise ValueError("run tags travel through the datastore and there is none")
    from flowc.datastore.objects import ObjectStore
    from flowc.datastore.storage import open_storage

    sha, _ = ObjectStore(open_storage(datastore)).put(json.dumps(sorted(set(tags))).encode("utf-8"))
    return {TAGS_KEY: sha}
