"""Artifact values <-> bytes: pickle protocol 5 with large buffers kept out of band.

An encoded value is a small self-describing header, the pickle stream, then each large buffer
(numpy arrays, pandas blocks: anything exposing a contiguous ``PickleBuffer``) verbatim at a
64-byte-aligned offset::

    b"FLWCPK5\\n" | u32 header length (little endian) | header JSON | pickle | pad | buffer 0 | pad | ...
    header JSON: {"version": 1, "pickle": [offset, length], "buffers": [[offset, length], ...]}

Encoding returns the pieces instead of joining them, so a 1 GiB array is never copied on its way
to the storage; decoding hands pickle memoryview slices of the read buffer, so on a memory-mapped
object the array is the map itself (zero-copy). No compression: it would cost more than it saves
on the numeric data this path exists for.
"""

from __future__ import annotations

import json
import pickle
import struct
from collections.abc import Sequence
from typing import Any

__all__ = ["ENCODING", "MAGIC", "DecodeError", "SerializationError", "decode", "encode", "type_name"]

#: The ``encoding`` recorded with every artifact in ``task.json``.
ENCODING = "flowc-pickle5"
MAGIC = b"FLWCPK5\n"
#: Buffers smaller than this stay in the pickle stream (a separate piece is not worth it).
OUT_OF_BAND_MIN = 1 << 16
_ALIGN = 64
_LENGTH = struct.Struct("<I")


class SerializationError(TypeError):
    """A value that cannot be pickled; the message names the artifact, its type, the step and why."""


class DecodeError(ValueError):
    """Bytes that are not an encoded artifact (wrong magic, malformed header)."""


def type_name(value: Any) -> str:
    """``module.QualifiedName`` of ``value``'s type (``builtins`` left out)."""
    kind = type(value)
    module = kind.__module__
    return kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"


def encode(value: Any, name: str = "value", step: str | None = None) -> list[memoryview | bytes]:
    """The pieces whose concatenation is the encoded ``value`` (large buffers are not copied).

    Args:
        value: any picklable object.
        name: the artifact's name, for the error message.
        step: the step that produced it, for the error message.

    Raises:
        SerializationError: pickle refused the value (names artifact, type, step and pickle's reason).
    """
    buffers: list[memoryview] = []

    def keep_out_of_band(buffer: pickle.PickleBuffer) -> bool:
        try:
            view = buffer.raw()
        except BufferError:  # not contiguous: let pickle copy it in band
            return True
        if view.nbytes < OUT_OF_BAND_MIN:
            return True
        buffers.append(view)
        return False

    try:
        stream = pickle.dumps(value, protocol=5, buffer_callback=keep_out_of_band)
    except Exception as exc:
        where = f" in step {step!r}" if step else ""
        raise SerializationError(
            f"artifact {name!r} of type {type_name(value)}{where} cannot be pickled: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    return _frame(stream, buffers)


def _frame(stream: bytes, buffers: Sequence[memoryview]) -> list[memoryview | bytes]:
    # The header's length depends on the offsets it lists: settle them with a fixed-width guess.
    def header_for(start: int) -> tuple[bytes, list[list[int]], int]:
        offset = start + len(stream)
        spans = []
        for view in buffers:
            offset += -offset % _ALIGN
            spans.append([offset, view.nbytes])
            offset += view.nbytes
        header = json.dumps(
            {"version": 1, "pickle": [start, len(stream)], "buffers": spans}, separators=(",", ":")
        ).encode()
        return header, spans, offset

    fixed = len(MAGIC) + _LENGTH.size
    width = 0
    while True:
        header, spans, _ = header_for(fixed + width)
        if len(header) <= width:
            header = header.ljust(width)
            break
        width = len(header) + 16
    pieces: list[memoryview | bytes] = [MAGIC + _LENGTH.pack(len(header)) + header + stream]
    position = fixed + len(header) + len(stream)
    for (offset, _), view in zip(spans, buffers, strict=True):
        if offset > position:
            pieces.append(b"\0" * (offset - position))
        pieces.append(view)
        position = offset + view.nbytes
    return pieces


def decode(data: Any) -> Any:
    """The value encoded in ``data`` (bytes, bytearray, memoryview or mmap).

    Out-of-band buffers are memoryview slices of ``data`` itself: no copy when ``data`` is writable
    (the local datastore returns writable copy-on-write maps for large objects). Read-only data
    (``bytes``) is copied once, so loaded arrays are writable as they were when saved.
    """
    view = memoryview(data)
    if view.nbytes < len(MAGIC) + _LENGTH.size or bytes(view[: len(MAGIC)]) != MAGIC:
        raise DecodeError("not a flowc artifact (bad magic)")
    (length,) = _LENGTH.unpack_from(view, len(MAGIC))
    start = len(MAGIC) + _LENGTH.size
    try:
        header = json.loads(bytes(view[start : start + length]))
        offset, size = header["pickle"]
        spans = header["buffers"]
    except (ValueError, KeyError, TypeError) as exc:
        raise DecodeError(f"malformed artifact header: {exc}") from None
    if any(o + n > view.nbytes for o, n in [(offset, size), *spans]):
        raise DecodeError("artifact shorter than its header says")
    if spans and view.readonly:
        view = memoryview(bytearray(view))
    return pickle.loads(view[offset : offset + size], buffers=[view[o : o + n] for o, n in spans])
