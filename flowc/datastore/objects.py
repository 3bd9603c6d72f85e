"""Content-addressed objects on any :class:`~flowc.datastore.storage.Storage`.

An object's name is the SHA-256 of its stored bytes (``objects/<sha[:2]>/<sha>``), so the same bytes
are stored once across tasks and runs, and every read is verified: bytes that do not hash to their
name raise :class:`CorruptObject` naming the object; wrong data is never returned.

Artifacts are objects holding an encoded value (:mod:`flowc.datastore.serialization`); a task
record describes each one as ``{"sha", "size", "type", "encoding"}`` (an *artifact reference*).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from flowc.datastore import layout, serialization
from flowc.datastore.storage import Buffer, NotFound, Storage, StorageError

__all__ = ["CorruptObject", "MissingObject", "ObjectStore", "load_artifact"]


class CorruptObject(StorageError):
    """An object whose bytes do not match its name (hash), or that cannot be decoded."""


class MissingObject(StorageError):
    """An object that a record refers to is not in the datastore."""


class ObjectStore:
    """Raw and artifact objects of one storage.

    Args:
        storage: where the objects live.
    """

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    # ---- raw bytes -----------------------------------------------------------------------
    def put(self, parts: Buffer | Sequence[Buffer]) -> tuple[str, int]:
        """Stores bytes (the concatenation of ``parts``); returns ``(sha256, size)``."""
        if isinstance(parts, bytes | bytearray | memoryview):
            parts = [parts]
        size = sum(memoryview(part).nbytes for part in parts)
        sha, _ = self.storage.write_object(layout.object_key, parts)
        return sha, size

    def get(self, sha: str) -> Buffer:
        """The verified bytes of object ``sha`` (a buffer: bytes, or a memory map when large).

        Raises:
            MissingObject: no such object.
            CorruptObject: its bytes do not hash to ``sha``.
        """
        key = layout.object_key(sha)
        try:
            data = self.storage.read(key)
        except NotFound:
            raise MissingObject(f"object {sha} is missing from datastore {self.storage.url}") from None
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha:
            raise CorruptObject(
                f"object {sha} in datastore {self.storage.url} is corrupt: its bytes hash to {actual[:16]}..."
            )
        return data

    def exists(self, sha: str) -> bool:
        return self.storage.exists(layout.object_key(sha))

    # ---- artifacts -----------------------------------------------------------------------
    def put_value(
        self, value: Any, name: str = "value", step: str | None = None, unless_sha: str | None = None
    ) -> dict[str, Any]:
        """Encodes and stores ``value``; returns its artifact reference.

        Args:
            value: the artifact's value.
            name: the artifact's name (for error messages).
            step: the step that produced it (for error messages).
            unless_sha: the hash of a stored object that ``value`` was loaded from; if the value
                still encodes to it, nothing is written (an inherited artifact read but not changed).

        Raises:
            SerializationError: the value cannot be pickled.
        """
        return self.put_values({name: (value, unless_sha)}, step=step)[name]

    def put_values(
        self, values: Mapping[str, tuple[Any, str | None]], step: str | None = None
    ) -> dict[str, dict[str, Any]]:
        """Encodes and stores several artifacts in one batch; returns name -> artifact reference.

        ``values`` maps each artifact's name to ``(value, unless_sha)`` as :meth:`put_value` takes
        them. The objects to write go to the storage together (``Storage.write_objects``), so on S3
        a task's artifacts cost one round trip of latency, not one per artifact.

        Raises:
            SerializationError: a value cannot be pickled (nothing of the batch is written).
        """
        references: dict[str, dict[str, Any]] = {}
        pending: list[tuple[str, list[Buffer], int, str]] = []
        for name, (value, unless_sha) in values.items():
            pieces = serialization.encode(value, name=name, step=step)
            size = sum(memoryview(piece).nbytes for piece in pieces)
            kind = serialization.type_name(value)
            if unless_sha is not None and _sha256(pieces) == unless_sha:
                references[name] = _reference(unless_sha, size, kind)
            else:
                pending.append((name, pieces, size, kind))
        written = self.storage.write_objects(layout.object_key, [pieces for _, pieces, _, _ in pending])
        for (name, _, size, kind), (sha, _) in zip(pending, written, strict=True):
            references[name] = _reference(sha, size, kind)
        return references

    def load_value(self, reference: Mapping[str, Any]) -> Any:
        """The value of the artifact described by ``reference`` (reads only that object)."""
        encoding = reference.get("encoding", serialization.ENCODING)
        if encoding != serialization.ENCODING:
            raise CorruptObject(f"object {reference['sha']}: unknown artifact encoding {encoding!r}")
        data = self.get(reference["sha"])
        try:
            return serialization.decode(data)
        except serialization.DecodeError as exc:
            raise CorruptObject(f"object {reference['sha']} is not a readable artifact: {exc}") from None


def _sha256(pieces: Sequence[Buffer]) -> str:
    hasher = hashlib.sha256()
    for piece in pieces:
        hasher.update(piece)
    return hasher.hexdigest()


def _reference(sha: str, size: int, kind: str) -> dict[str, Any]:
    return {"sha": sha, "size": size, "type": kind, "encoding": serialization.ENCODING}


def load_artifact(storage: Storage, reference: Mapping[str, Any]) -> Any:
    """The value of one artifact of a task record (``{"sha", "encoding", ...}``) in ``storage``."""
    return ObjectStore(storage).load_value(reference)
