"""A datastore in a local directory: every write is atomic, nothing half-written is ever visible.

A write goes to a hidden temporary file in the destination's own directory (same file system),
then ``os.replace`` moves it into place, so a reader sees the old object, the new one, or none;
a process killed mid-write leaves only a hidden ``.flowc-tmp-*`` file that listings skip.
Large objects are read as copy-on-write memory maps: loading a 1 GiB array costs no copy, and the
map stays valid even if the file is replaced later (objects are never rewritten in place).

No ``fsync``: atomicity protects readers from crashed writers, not from power loss (the same
trade-off as Metaflow's local datastore).

With ``FLOWC_DIRECT_IO=1``, objects of :data:`DIRECT_IO_MIN` bytes or more are written with
``O_DIRECT`` through a small page-aligned staging buffer. A buffered write of a GiB must first
allocate a GiB of page cache (slow on a busy machine, or in a VM touching memory for the first
time) and back-to-back GiB writes hit the kernel's dirty-page throttling; direct I/O streams at
the disk's speed instead. It is off by default because the bytes then are not in the page cache,
so a task reading them next on the same machine pays a disk read (measured in
bench/results/datastore.md). File systems without direct I/O (tmpfs) fall back to buffered writes.
"""

from __future__ import annotations

import contextlib
import errno
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence

from flowc.datastore.storage import Buffer, NotFound, Storage, StorageError

__all__ = ["DIRECT_IO_MIN", "MMAP_THRESHOLD", "TEMP_FOLDER", "TEMP_PREFIX", "LocalStorage"]

#: Hidden temporary files start with this; listings skip every name starting with ``.``.
TEMP_PREFIX = ".flowc-tmp-"
#: Hidden folder (in the root, so on the same file system) for objects whose name is not known yet.
TEMP_FOLDER = ".flowc-tmp"
#: Files at least this big are memory-mapped on read instead of copied into memory.
MMAP_THRESHOLD = 1 << 20
#: With FLOWC_DIRECT_IO=1, objects at least this big are written with O_DIRECT (module docstring).
DIRECT_IO_MIN = 64 << 20
_STAGE_BYTES = 16 << 20  # the staging buffer: a multiple of every block size
_BLOCK = 4096
# os.write moves at most ~2 GiB per call on Linux; smaller slices keep the hashing thread close.
_WRITE_SLICE = 1 << 26


def _parts(parts: Buffer | Sequence[Buffer]) -> list[memoryview]:
    """Flat byte views of ``parts`` (never copied)."""
    if not isinstance(parts, list | tuple):
        parts = [parts]
    views = []
    for part in parts:
        view = memoryview(part)
        if view.ndim != 1 or view.format != "B":
            view = view.cast("B")
        views.append(view)
    return views


class LocalStorage(Storage):
    """A :class:`~flowc.datastore.storage.Storage` rooted at a local directory (created on first write).

    Args:
        root: the directory; relative paths are resolved against the working directory now, so
            the storage keeps pointing at the same place if the process changes directory.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = os.path.abspath(os.fspath(root))
        self.url = self.root

    def __repr__(self) -> str:
        return f"LocalStorage({self.root!r})"

    # ---- paths ---------------------------------------------------------------------------
    def path(self, key: str) -> str:
        """The file that holds ``key`` (keys are ``/``-separated and never leave the root)."""
        if not key or key.startswith("/") or ".." in key.split("/"):
            raise StorageError(f"invalid datastore key {key!r}")
        return os.path.join(self.root, *key.split("/"))

    def sweep_abandoned_writes(self, older_than_seconds: float = 3600.0) -> int:
        """Deletes temporary object files that writers killed mid-write left behind; returns how many.

        Only files untouched for ``older_than_seconds`` go: a write in progress in another process
        keeps its file fresh. Such files were never visible (listings skip them), so nothing stored
        is lost.
        """
        folder = os.path.join(self.root, TEMP_FOLDER)
        cutoff = time.time() - older_than_seconds
        removed = 0
        try:
            entries = list(os.scandir(folder))
        except FileNotFoundError:
            return 0
        for entry in entries:
            try:
                if entry.name.startswith(TEMP_PREFIX) and entry.stat().st_mtime < cutoff:
                    os.unlink(entry.path)
                    removed += 1
            except FileNotFoundError:  # its writer finished (renamed it) or another sweep took it
                continue
        return removed

    @staticmethod
    def _temp_path(final: str) -> str:
        return os.path.join(os.path.dirname(final), f"{TEMP_PREFIX}{uuid.uuid4().hex}")

    # ---- reads ---------------------------------------------------------------------------
    def read(self, key: str) -> Buffer:
        """Bytes of ``key``: ``bytes`` when small, a writable copy-on-write ``mmap`` when large."""
        path = self.path(key)
        try:
            with open(path, "rb", buffering=0) as handle:
                size = os.fstat(handle.fileno()).st_size
                if size >= MMAP_THRESHOLD:
                    import mmap

                    return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_COPY)
                return handle.read()
        except FileNotFoundError:
            raise NotFound(key) from None
        except IsADirectoryError:
            raise NotFound(key) from None
        except OSError as exc:
            raise StorageError(f"cannot read {path}: {exc}") from exc

    def read_range(self, key: str, start: int, length: int) -> bytes:
        path = self.path(key)
        try:
            with open(path, "rb", buffering=0) as handle:
                return os.pread(handle.fileno(), length, start)
        except (FileNotFoundError, IsADirectoryError):
            raise NotFound(key) from None
        except OSError as exc:
            raise StorageError(f"cannot read {path}: {exc}") from exc

    def exists(self, key: str) -> bool:
        return os.path.isfile(self.path(key))

    def list(self, prefix: str) -> Iterator[str]:
        """Every key under ``prefix``, recursively, sorted; hidden (temporary) files are skipped."""
        base = self.path(prefix) if prefix else self.root
        keys: list[str] = []
        for folder, subfolders, files in os.walk(base):
            subfolders[:] = [name for name in subfolders if not name.startswith(".")]
            relative = os.path.relpath(folder, self.root).replace(os.sep, "/")
            for name in files:
                if not name.startswith("."):
                    keys.append(name if relative == "." else f"{relative}/{name}")
        return iter(sorted(keys))

    # ---- writes --------------------------------------------------------------------------
    def write(self, key: str, parts: Buffer | Sequence[Buffer]) -> None:
        final = self.path(key)
        temp = self._write_temp(final, _parts(parts))
        try:
            os.replace(temp, final)
        except OSError as exc:
            _remove(temp)
            raise StorageError(f"cannot write {final}: {exc}") from exc

    def write_if_absent(self, key: str, data: Buffer) -> bool:
        """Creates ``key`` only if absent (a hard link fails on an existing name: atomic and exclusive)."""
        final = self.path(key)
        temp = self._write_temp(final, _parts(data))
        try:
            return _link(temp, final)
        except OSError as exc:
            raise StorageError(f"cannot write {final}: {exc}") from exc
        finally:
            _remove(temp)

    def write_object(
        self, key_for: Callable[[str], str], parts: Buffer | Sequence[Buffer]
    ) -> tuple[str, bool]:
        """Content-addressed write: hashes (SHA-256) in a second thread while writing the bytes.

        Both ``hashlib`` and ``os.write`` release the GIL on large buffers, so a 1 GiB object costs
        about max(hash, write) rather than their sum. The bytes land in a temporary file first; the
        hash names the final key, which is linked only if absent (the same bytes are stored once).
        An object already there is checked (:func:`_same_bytes`) and replaced when damaged, so
        storing the same bytes again repairs it.
        """
        import hashlib

        views = _parts(parts)
        hasher = hashlib.sha256()
        total = sum(view.nbytes for view in views)
        # The final key is known only after hashing: the bytes wait in a hidden folder of the root.
        temp = self._temp_path(os.path.join(self.root, TEMP_FOLDER, "object"))
        if total < (1 << 22):
            for view in views:
                hasher.update(view)
            self._write_file(temp, views)
        else:
            failure: list[BaseException] = []

            def hash_all() -> None:
                try:
                    for view in views:
                        hasher.update(view)
                except BaseException as exc:  # pragma: no cover - surfaced below
                    failure.append(exc)

            thread = threading.Thread(target=hash_all, name="flowc-hash", daemon=True)
            thread.start()
            try:
                if not (total >= DIRECT_IO_MIN and _write_direct(temp, views)):
                    self._write_file(temp, views)
            finally:
                thread.join()
            if failure:
                _remove(temp)
                raise failure[0]
        sha = hasher.hexdigest()
        final = self.path(key_for(sha))
        try:
            if _link(temp, final):
                return sha, True
            if _same_bytes(final, views, total):
                return sha, False
            # The stored copy is damaged (other bytes under this hash): ours replace it, atomically.
            os.replace(temp, final)
            return sha, True
        except OSError as exc:
            raise StorageError(f"cannot write {final}: {exc}") from exc
        finally:
            _remove(temp)

    def _write_temp(self, final: str, views: list[memoryview]) -> str:
        temp = self._temp_path(final)
        self._write_file(temp, views)
        return temp

    @staticmethod
    def _write_file(temp: str, views: list[memoryview]) -> None:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
        try:
            try:
                fd = os.open(temp, flags, 0o644)
            except FileNotFoundError:  # first write into this folder
                os.makedirs(os.path.dirname(temp), exist_ok=True)
                fd = os.open(temp, flags, 0o644)
        except OSError as exc:
            raise StorageError(f"cannot create {temp}: {exc}") from exc
        try:
            for view in views:
                offset = 0
                while offset < view.nbytes:
                    offset += os.write(fd, view[offset : offset + _WRITE_SLICE])
        except OSError as exc:
            os.close(fd)
            _remove(temp)
            if exc.errno == errno.ENOSPC:
                raise StorageError(f"no space left on device writing {temp}") from exc
            raise StorageError(f"cannot write {temp}: {exc}") from exc
        except BaseException:
            os.close(fd)
            _remove(temp)
            raise
        os.close(fd)

    def delete(self, key: str) -> None:
        _remove(self.path(key))


def _write_direct(temp: str, views: list[memoryview]) -> bool:
    """Writes ``views`` to a new file ``temp`` with O_DIRECT; False if direct I/O is unavailable."""
    flag = getattr(os, "O_DIRECT", 0)
    if not flag or os.environ.get("FLOWC_DIRECT_IO", "0") != "1":
        return False
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | flag
    try:
        try:
            fd = os.open(temp, flags, 0o644)
        except FileNotFoundError:
            os.makedirs(os.path.dirname(temp), exist_ok=True)
            fd = os.open(temp, flags, 0o644)
    except OSError as exc:
        if exc.errno == errno.EINVAL:  # this file system has no direct I/O
            return False
        raise StorageError(f"cannot create {temp}: {exc}") from exc
    import fcntl
    import mmap

    stage = mmap.mmap(-1, _STAGE_BYTES)  # anonymous maps are page-aligned, as O_DIRECT needs
    staged = memoryview(stage)
    try:
        filled = 0
        for view in views:
            position = 0
            while position < view.nbytes:
                count = min(_STAGE_BYTES - filled, view.nbytes - position)
                staged[filled : filled + count] = view[position : position + count]
                filled += count
                position += count
                if filled == _STAGE_BYTES:
                    _write_all(fd, staged)
                    filled = 0
        aligned = filled - filled % _BLOCK
        if aligned:
            _write_all(fd, staged[:aligned])
        if filled > aligned:  # the tail is not a whole block: finish it buffered
            fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~flag)
            _write_all(fd, staged[aligned:filled])
    except OSError as exc:
        os.close(fd)
        _remove(temp)
        if exc.errno == errno.EINVAL:  # refused mid-way (odd block size): write it buffered
            return False
        raise StorageError(f"cannot write {temp}: {exc}") from exc
    except BaseException:
        os.close(fd)
        _remove(temp)
        raise
    finally:
        with contextlib.suppress(BufferError):  # a traceback may still hold a slice of it
            staged.release()
            stage.close()
    os.close(fd)
    return True


def _write_all(fd: int, view: memoryview) -> None:
    while view:
        view = view[os.write(fd, view) :]


def _link(source: str, target: str) -> bool:
    """Hard-links ``target`` to ``source`` unless ``target`` exists; True if this call created it."""
    try:
        os.link(source, target)
        return True
    except FileExistsError:
        return False
    except FileNotFoundError:
        if not os.path.exists(source):
            raise
        os.makedirs(os.path.dirname(target), exist_ok=True)
        return _link(source, target)


#: An existing object up to this size is compared whole with the bytes being stored; a larger one
#: by its size and three windows (start, middle, end) of :data:`_CHECK_WINDOW` bytes.
_FULL_CHECK_MAX = 8 << 20
_CHECK_WINDOW = 1 << 16


def _same_bytes(path: str, views: list[memoryview], total: int) -> bool:
    """Whether the file at ``path`` holds the concatenation of ``views`` (see :data:`_FULL_CHECK_MAX`)."""
    if total <= _FULL_CHECK_MAX:
        windows = [(0, total)]
    else:
        windows = [(0, _CHECK_WINDOW), (total // 2, _CHECK_WINDOW), (total - _CHECK_WINDOW, _CHECK_WINDOW)]
    try:
        with open(path, "rb") as handle:
            if os.fstat(handle.fileno()).st_size != total:
                return False
            for start, length in windows:
                handle.seek(start)
                if handle.read(length) != _slice(views, start, length):
                    return False
    except OSError:
        return False
    return True


def _slice(views: list[memoryview], start: int, length: int) -> bytes:
    """Bytes ``[start, start + length)`` of the concatenation of ``views``."""
    pieces, offset = [], 0
    for view in views:
        end = offset + view.nbytes
        if end > start and offset < start + length:
            pieces.append(view[max(0, start - offset) : min(view.nbytes, start + length - offset)])
        offset = end
    return b"".join(pieces)


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
