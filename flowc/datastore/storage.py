"""The storage interface every datastore back end (local directory, S3) implements.

Keys are ``/``-separated relative paths (see :mod:`flowc.datastore.layout`). Writes are atomic: a
reader sees the whole object or nothing. The content-addressed object store, metadata and the task
runner are written against this interface only.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

__all__ = ["Buffer", "NotFound", "Storage", "StorageError", "open_storage"]

#: Bytes in one or several pieces (several pieces avoid joining large buffers before writing).
Buffer = bytes | bytearray | memoryview


class StorageError(RuntimeError):
    """The storage cannot be reached or refused an operation (after retries)."""


class NotFound(StorageError, KeyError):
    """No object at that key."""

    def __str__(self) -> str:
        return f"no object at {self.args[0]!r}" if self.args else "no object"


class Storage(ABC):
    """A flat key -> bytes store with atomic writes."""

    #: The root as a URL or path (what ``--datastore`` takes), for messages and child processes.
    url: str

    @abstractmethod
    def read(self, key: str) -> Buffer:
        """All bytes of ``key``; raises :class:`NotFound`."""

    def read_range(self, key: str, start: int, length: int) -> bytes:
        """Bytes ``[start, start + length)`` of ``key``; raises :class:`NotFound`. Back ends
        override it to read only those bytes."""
        return bytes(memoryview(self.read(key))[start : start + length])

    @abstractmethod
    def write(self, key: str, parts: Buffer | Sequence[Buffer]) -> None:
        """Stores the concatenation of ``parts`` at ``key`` atomically (replacing any old object)."""

    @abstractmethod
    def write_if_absent(self, key: str, data: Buffer) -> bool:
        """Stores ``data`` only if ``key`` does not exist; True if this call created it."""

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def list(self, prefix: str) -> Iterator[str]:
        """Every key under ``prefix`` (a folder, without trailing ``/``), recursively, in sorted order."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Removes ``key`` if present."""

    def write_object(
        self, key_for: Callable[[str], str], parts: Buffer | Sequence[Buffer]
    ) -> tuple[str, bool]:
        """Stores content-addressed bytes at ``key_for(sha256 of the bytes)`` unless already there.

        Returns ``(sha256 hex digest, True if this call stored them)``. This default hashes first,
        then writes; back ends override it to hash while writing (see ``LocalStorage``).
        """
        import hashlib

        views = [parts] if isinstance(parts, bytes | bytearray | memoryview) else list(parts)
        hasher = hashlib.sha256()
        for part in views:
            hasher.update(part)
        sha = hasher.hexdigest()
        key = key_for(sha)
        if self.exists(key):
            return sha, False
        self.write(key, views)
        return sha, True

    def with_retry_budget(self, seconds: float) -> Storage:
        """This storage, retrying transient failures for at most ``seconds`` (best-effort writes
        that must not hold up a run, or a Ctrl-C, for the whole budget). A copy where it matters."""
        return self

    def sweep_abandoned_writes(self, older_than_seconds: float = 3600.0) -> int:
        """Deletes what writers killed mid-write left behind (never visible); returns how many.

        Nothing to do by default: an S3 upload that never completes leaves no object (incomplete
        multipart uploads are for the bucket's lifecycle rule to expire).
        """
        return 0

    # Batched forms: back ends with per-request latency (S3) override these to work in parallel.
    def read_many(self, keys: Iterable[str]) -> dict[str, Buffer]:
        return {key: self.read(key) for key in keys}

    def write_many(self, items: Mapping[str, Buffer | Sequence[Buffer]]) -> None:
        for key, parts in items.items():
            self.write(key, parts)

    def exists_many(self, keys: Iterable[str]) -> dict[str, bool]:
        return {key: self.exists(key) for key in keys}

    def write_objects(
        self, key_for: Callable[[str], str], items: Sequence[Buffer | Sequence[Buffer]]
    ) -> list[tuple[str, bool]]:
        """:meth:`write_object` of each item (e.g. every artifact of a task), in order."""
        return [self.write_object(key_for, parts) for parts in items]


def open_storage(url: str, settings: Any = None) -> Storage:
    """The storage for ``url``: ``s3://bucket/prefix`` or a local directory path.

    Args:
        url: the datastore root.
        settings: the :class:`flowc.config.Settings` a command already loaded (S3 reads its
            ``s3.*`` keys there); default: loaded from the environment and the working directory.
    """
    if url.startswith("s3://"):
        from flowc.datastore.s3 import S3Storage

        return S3Storage(url, settings=settings)
    from flowc.datastore.local import LocalStorage

    return LocalStorage(url)
