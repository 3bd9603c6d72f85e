"""Read-only access to one datastore for the client: run, step and task records and artifacts.

Everything here follows the layout in docs/architecture.md ("Datastore layout") through
:mod:`flowc.datastore.layout`; nothing is written. Listing a folder's direct children is what the
client does most (runs of a flow, steps of a run, tasks of a step); on a local datastore that is one
``os.scandir`` instead of a recursive listing of every task's files.
"""

from __future__ import annotations

import os
from typing import Any

from flowc.datastore import layout

__all__ = ["ClientStore", "decode_artifact", "open_client_store", "task_order"]


class ClientStore:
    """Reads records and artifacts from the datastore at ``url`` (a local path or ``s3://``)."""

    def __init__(self, url: str) -> None:
        from flowc.datastore.storage import open_storage

        self.url = url
        self.storage = open_storage(url)
        self._local_root = None if url.startswith("s3://") else os.path.abspath(url)

    def __getstate__(self) -> dict[str, Any]:
        # A client object stored as an artifact (Metaflow's `self.run_obj = current.run`) keeps
        # only where its datastore is; the connection is opened again where it is read.
        return {"url": self.url}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["url"])  # type: ignore[misc]

    @classmethod
    def for_storage(cls, storage: Any) -> ClientStore:
        """A store over an already open :class:`~flowc.datastore.storage.Storage` (the task
        runner's, when it renders cards from the finished task)."""
        from flowc.datastore.local import LocalStorage

        store = cls.__new__(cls)
        store.url = storage.url
        store.storage = storage
        store._local_root = storage.root if isinstance(storage, LocalStorage) else None
        return store

    # ---- listing -------------------------------------------------------------------------
    def children(self, prefix: str) -> list[str]:
        """Names of the direct children (folders or files) of ``prefix``, sorted."""
        if self._local_root is not None:
            try:
                with os.scandir(os.path.join(self._local_root, prefix)) as entries:
                    return sorted(e.name for e in entries if not e.name.startswith("."))
            except (FileNotFoundError, NotADirectoryError):
                return []
        names = set()
        for key in self.storage.list(prefix):
            rest = key[len(prefix) :].lstrip("/")
            if rest:
                names.add(rest.split("/", 1)[0])
        return sorted(names)

    def local_path(self, prefix: str) -> str | None:
        """The folder holding ``prefix`` on a local datastore, None on S3."""
        return None if self._local_root is None else os.path.join(self._local_root, prefix)

    def files_below(self, prefix: str) -> list[str]:
        """Every key under ``prefix`` as a path relative to it, in no particular order.

        Locally a plain ``os.scandir`` walk (a run of 10,000 tasks is 10,000 folders: no sorting,
        no relative-path arithmetic per folder); on S3 one paginated listing.
        """
        if self._local_root is None:
            return [key[len(prefix) + 1 :] for key in self.storage.list(prefix)]
        found: list[str] = []
        pending = [""]
        base = os.path.join(self._local_root, prefix)
        while pending:
            relative = pending.pop()
            try:
                with os.scandir(os.path.join(base, relative) if relative else base) as entries:
                    for entry in entries:
                        if entry.name.startswith("."):
                            continue
                        name = f"{relative}/{entry.name}" if relative else entry.name
                        (pending if entry.is_dir() else found).append(name)
            except (FileNotFoundError, NotADirectoryError):
                continue
        return found

    def flow_names(self) -> list[str]:
        return self.children("runs")

    def run_ids(self, flow: str) -> list[str]:
        return [
            name
            for name in self.children(layout.runs_prefix(flow))
            if self.exists(layout.run_key(flow, name))
        ]

    def step_names(self, flow: str, run_id: str) -> list[str]:
        prefix = layout.run_prefix(flow, run_id)
        return [name for name in self.children(prefix) if layout.is_step_folder(name)]

    def task_ids(self, flow: str, run_id: str, step: str) -> list[str]:
        """The step's task ids in foreach index order (``2`` before ``10``), then iteration."""
        return sorted(self.children(layout.step_prefix(flow, run_id, step)), key=task_order)

    def succeeded_task_ids(self, flow: str, run_id: str, step: str) -> list[str]:
        """The step's task ids that stored their record (``task.json``), in :meth:`task_ids` order."""
        if self._local_root is not None:
            return [
                task
                for task in self.task_ids(flow, run_id, step)
                if os.path.isfile(os.path.join(self._local_root, layout.task_key(flow, run_id, step, task)))
            ]
        prefix = layout.step_prefix(flow, run_id, step)
        found = {
            key[len(prefix) + 1 :].split("/")[0]
            for key in self.storage.list(prefix)
            if key.endswith("/task.json")
        }
        return sorted(found, key=task_order)

    def attempts(self, flow: str, run_id: str, step: str, task: str) -> list[int]:
        numbers = set()
        for name in self.children(layout.task_prefix(flow, run_id, step, task)):
            if name.startswith("attempt-"):
                number = name[len("attempt-") :].split(".", 1)[0]
                if number.isdigit():
                    numbers.add(int(number))
        return sorted(numbers)

    # ---- records -------------------------------------------------------------------------
    def exists(self, key: str) -> bool:
        return self.storage.exists(key)

    def read_json(self, key: str) -> dict[str, Any] | None:
        """The record at ``key``, or None when there is none.

        Raises:
            flowc.metadata.CorruptRecord: the record is corrupt (checked as the task runner does).
        """
        from flowc.metadata import read_json

        return read_json(self.storage, key)

    def read_text(self, key: str) -> str | None:
        from flowc.datastore.storage import NotFound

        try:
            return bytes(self.storage.read(key)).decode("utf-8", errors="replace")
        except NotFound:
            return None

    def read_log(self, flow: str, run_id: str, step: str, task: str, attempt: int, stream: str) -> str | None:
        """What an attempt printed on ``stream``, or None when nothing was stored.

        Raises:
            flowc.metadata.CorruptRecord: the log does not match the checksum its attempt record holds.
        """
        from flowc.metadata import TaskAddress, read_log

        try:
            address = TaskAddress.from_task_id(flow=flow, run_id=run_id, task_id=task)
        except ValueError:  # a folder flowc did not write holds no log of flowc's
            return None
        # One reading for everyone (flowc.metadata.read_log): it knows a running task's live uploads.
        data = read_log(self.storage, address, attempt, stream)
        return data.decode("utf-8", errors="replace") if data else None

    def load_artifact(self, meta: dict[str, Any]) -> Any:
        """The value of one artifact from its entry in a task record (reads only that object)."""
        return decode_artifact(self.storage, meta)


def task_order(task_id: str) -> tuple[int, tuple[int, ...], int, str]:
    """Sort key of task ids: foreach index order (``2`` before ``10``), then iteration."""
    try:
        _, path, iteration = layout.parse_task_id(task_id)
    except ValueError:  # not a flowc task id: after the others, by name
        return 1, (), 0, task_id
    return 0, path, iteration, ""


def decode_artifact(storage: Any, meta: dict[str, Any]) -> Any:
    """Value of the artifact described by ``meta`` (``{"sha", "encoding", ...}``) in ``storage``.

    Verified on read: a corrupt object raises :class:`flowc.datastore.objects.CorruptObject`.
    """
    from flowc.datastore.objects import load_artifact

    return load_artifact(storage, meta)


def open_client_store(url: str | None = None) -> ClientStore:
    """The store at ``url``, else ``FLOWC_DATASTORE`` / configuration ``datastore``."""
    if url is None:
        from flowc.config import load_settings

        url = str(load_settings()["datastore"])
    return ClientStore(url)
