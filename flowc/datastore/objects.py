"""Content-addressed objects on any :class:`~flowc.datastore.storage.Storage`.

An object's name is the SHA-256 of its stored bytes (``objects/<sha[:2]>/<sha>``), so the same bytes
are stored once across tasks and runs, and every read is verified: bytes that do not hash to their
name raise :class:`CorruptObject` naming the object; wrong data is never returned.

Artifacts are objects holding an encoded value (:mod:`flowc.datastore.serialization`); a task
record describes each one as ``{"sha", "size", "type", "encoding"}`` (an *artifact reference*).

Small artifacts of one task are packed: :meth:`ObjectStore.put_values` concatenates every new
value under :data:`PACK_MAX` bytes into one object (itself content-addressed), and each reference
adds ``{"pack": <the pack's sha>, "offset": <where the value starts>}``. A task with a hundred
small artifacts then costs one write, not a hundred (on S3, one request). Reading them back costs
one read too: a pack up to :data:`WHOLE_PACK_MAX` is read whole on first use and kept by the
``ObjectStore`` (larger ones are read value by value, with ranged reads); every value is still
verified against its own ``sha``. The price: small values are not shared across tasks (they are
small).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from flowc.datastore import layout, serialization
from flowc.datastore.storage import Buffer, NotFound, Storage, StorageError

__all__ = [
    "PACK_MAX",
    "REPAIR_HINT",
    "WHOLE_PACK_MAX",
    "CorruptObject",
    "MissingObject",
    "ObjectStore",
    "load_artifact",
]

#: Encoded values smaller than this are packed together (module docstring).
PACK_MAX = 64 * 1024
#: A pack up to this size is read whole on first use and kept (a few of them) by the ObjectStore,
#: so reading a task's many small artifacts costs one read, not one per artifact.
WHOLE_PACK_MAX = 4 << 20
_KEPT_PACKS = 4


class CorruptObject(StorageError):
    """An object whose bytes do not match its name (hash), or that cannot be decoded."""


#: How a damaged object is repaired: any write of the same bytes checks the stored copy and
#: replaces it (``Storage.write_object``).
REPAIR_HINT = (
    "to repair it, run the task that stored it again (flowc resume FLOW.py --origin-run-id RUN STEP): "
    "storing the same value replaces the damaged copy"
)


class MissingObject(StorageError):
    """An object that a record refers to is not in the datastore."""


class ObjectStore:
    """Raw and artifact objects of one storage.

    Args:
        storage: where the objects live.
    """

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self._packs: dict[str, bytes] = {}  # whole small packs read so far (the last few)

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
                f"object {sha} in datastore {self.storage.url} is corrupt: its bytes hash to "
                f"{actual[:16]}...; {REPAIR_HINT}"
            )
        return data

    def exists(self, sha: str) -> bool:
        return self.storage.exists(layout.object_key(sha))

    # ---- artifacts -----------------------------------------------------------------------
    def put_value(
        self,
        value: Any,
        name: str = "value",
        step: str | None = None,
        unless: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Encodes and stores ``value``; returns its artifact reference.

        Args:
            value: the artifact's value.
            name: the artifact's name (for error messages).
            step: the step that produced it (for error messages).
            unless: the reference of a stored artifact that ``value`` was loaded from; if the value
                still encodes to the same bytes, nothing is written and that reference is kept (an
                inherited artifact read but not changed).

        Raises:
            SerializationError: the value cannot be pickled.
        """
        return self.put_values({name: (value, unless)}, step=step)[name]

    def put_values(
        self, values: Mapping[str, tuple[Any, Mapping[str, Any] | None]], step: str | None = None
    ) -> dict[str, dict[str, Any]]:
        """Encodes and stores several artifacts in one batch; returns name -> artifact reference.

        ``values`` maps each artifact's name to ``(value, unless)`` as :meth:`put_value` takes
        them. New values under :data:`PACK_MAX` bytes go into one pack object; the pack and the
        large values go to the storage together (``Storage.write_objects``), so on S3 a task's
        artifacts cost one round trip of latency, and at most one request for all the small ones.

        Raises:
            SerializationError: a value cannot be pickled (nothing of the batch is written).
        """
        references: dict[str, dict[str, Any]] = {}
        small: list[tuple[str, list[Buffer], int, str]] = []
        large: list[tuple[str, list[Buffer], int, str]] = []
        for name, (value, unless) in values.items():
            pieces = serialization.encode(value, name=name, step=step)
            size = sum(memoryview(piece).nbytes for piece in pieces)
            kind = serialization.type_name(value)
            if unless is not None and _sha256(pieces) == unless.get("sha"):
                references[name] = dict(unless)
            else:
                (small if size < PACK_MAX else large).append((name, pieces, size, kind))
        if len(small) < 2:  # a pack of one is just an object
            large, small = small + large, []
        batch = [pieces for _, pieces, _, _ in large]
        if small:
            batch.append([piece for _, pieces, _, _ in small for piece in pieces])
        written = self.storage.write_objects(layout.object_key, batch)
        for (name, _, size, kind), (sha, _) in zip(large, written, strict=False):
            references[name] = _reference(sha, size, kind)
        if small:
            pack, _ = written[-1]
            pack_size = sum(size for _, _, size, _ in small)
            offset = 0
            for name, pieces, size, kind in small:
                reference = _reference(_sha256(pieces), size, kind)
                references[name] = {**reference, "pack": pack, "offset": offset, "pack_size": pack_size}
                offset += size
        return references

    def load_value(self, reference: Mapping[str, Any]) -> Any:
        """The value of the artifact described by ``reference`` (reads only that object, or only
        its bytes of a pack)."""
        encoding = reference.get("encoding", serialization.ENCODING)
        if encoding != serialization.ENCODING:
            raise CorruptObject(f"object {reference['sha']}: unknown artifact encoding {encoding!r}")
        data = self.value_bytes(reference)
        try:
            return serialization.decode(data)
        except serialization.DecodeError as exc:
            raise CorruptObject(f"object {reference['sha']} is not a readable artifact: {exc}") from None

    def value_bytes(self, reference: Mapping[str, Any]) -> Buffer:
        """The stored (encoded, verified) bytes of one artifact, without decoding them: what a
        reader that must not unpickle (``flowc ui``'s download) serves."""
        return self.get(reference["sha"]) if "pack" not in reference else self._unpack(reference)

    def _unpack(self, reference: Mapping[str, Any]) -> bytes:
        """A packed value's bytes, verified against its own hash."""
        sha, pack = reference["sha"], reference["pack"]
        start, length = int(reference["offset"]), int(reference["size"])
        try:
            if int(reference.get("pack_size") or WHOLE_PACK_MAX + 1) <= WHOLE_PACK_MAX:
                data = self._whole_pack(pack)[start : start + length]
            else:
                data = self.storage.read_range(layout.object_key(pack), start, length)
        except NotFound:
            raise MissingObject(f"object {pack} is missing from datastore {self.storage.url}") from None
        if hashlib.sha256(data).hexdigest() != sha:
            raise CorruptObject(
                f"object {sha} (packed in {pack}) in datastore {self.storage.url} is corrupt: its bytes "
                f"do not match its hash; {REPAIR_HINT}"
            )
        return data

    def _whole_pack(self, pack: str) -> bytes:
        if pack not in self._packs:
            if len(self._packs) >= _KEPT_PACKS:
                self._packs.pop(next(iter(self._packs)))  # the oldest
            self._packs[pack] = bytes(self.storage.read(layout.object_key(pack)))
        return self._packs[pack]


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
