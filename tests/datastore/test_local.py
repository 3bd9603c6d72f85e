"""LocalStorage: atomic writes, exclusive creation, sorted recursive listing, content addressing."""

from __future__ import annotations

import hashlib
import multiprocessing
import os

import pytest

from flowc.datastore import layout
from flowc.datastore.local import TEMP_FOLDER, LocalStorage
from flowc.datastore.storage import NotFound, StorageError, open_storage


def test_write_read_parts_and_replace(tmp_path):
    storage = LocalStorage(tmp_path)
    storage.write("a/b/c.json", [b"he", bytearray(b"ll"), memoryview(b"o")])
    assert bytes(storage.read("a/b/c.json")) == b"hello"
    storage.write("a/b/c.json", b"new")
    assert bytes(storage.read("a/b/c.json")) == b"new"
    assert storage.exists("a/b/c.json") and not storage.exists("a/b/d.json")
    assert [name for name in os.listdir(tmp_path / "a/b")] == ["c.json"]  # no temporary file left


def test_missing_key_raises_not_found(tmp_path):
    with pytest.raises(NotFound) as info:
        LocalStorage(tmp_path).read("runs/x.json")
    assert isinstance(info.value, KeyError) and "runs/x.json" in str(info.value)


def test_keys_cannot_escape_the_root(tmp_path):
    storage = LocalStorage(tmp_path)
    for key in ("../x", "/etc/passwd", "a/../../x", ""):
        with pytest.raises(StorageError):
            storage.write(key, b"x")


def test_write_if_absent_is_exclusive(tmp_path):
    storage = LocalStorage(tmp_path)
    assert storage.write_if_absent("k/run.json", b"first")
    assert not storage.write_if_absent("k/run.json", b"second")
    assert bytes(storage.read("k/run.json")) == b"first"


def _claim(root: str, key: str, token: bytes) -> bool:
    return LocalStorage(root).write_if_absent(key, token)


def test_write_if_absent_has_one_winner_across_processes(tmp_path):
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        results = pool.starmap(_claim, [(str(tmp_path), "claim.json", str(i).encode()) for i in range(16)])
    assert results.count(True) == 1


def test_list_is_recursive_sorted_and_skips_hidden_files(tmp_path):
    storage = LocalStorage(tmp_path)
    for key in ("r/b/2", "r/a", "r/b/10", "r/c/d/e", "other/x"):
        storage.write(key, b"x")
    (tmp_path / "r" / ".flowc-tmp-abc").write_bytes(b"partial")
    assert list(storage.list("r")) == ["r/a", "r/b/10", "r/b/2", "r/c/d/e"]
    assert list(storage.list("missing")) == []


def test_delete_is_idempotent(tmp_path):
    storage = LocalStorage(tmp_path)
    storage.write("x", b"1")
    storage.delete("x")
    storage.delete("x")
    assert not storage.exists("x")


def test_write_object_names_bytes_by_hash_and_stores_them_once(tmp_path):
    storage = LocalStorage(tmp_path)
    data = os.urandom(5 << 20)  # large enough for the threaded hashing path
    sha, created = storage.write_object(layout.object_key, [data[:100], memoryview(data)[100:]])
    assert sha == hashlib.sha256(data).hexdigest() and created
    assert bytes(storage.read(layout.object_key(sha))) == data
    again, created_again = storage.write_object(layout.object_key, data)
    assert again == sha and not created_again
    assert os.listdir(tmp_path / TEMP_FOLDER) == []


def test_large_reads_are_writable_copy_on_write_maps(tmp_path):
    storage = LocalStorage(tmp_path)
    storage.write("big", b"\0" * (2 << 20))
    data = storage.read("big")
    view = memoryview(data)
    assert not view.readonly
    view[0] = 1  # changes the map, never the stored file
    assert bytes(storage.read("big")[:1]) == b"\0"


def test_open_storage_picks_local_for_paths(tmp_path):
    storage = open_storage(str(tmp_path / "ds"))
    assert isinstance(storage, LocalStorage) and storage.url == str(tmp_path / "ds")


@pytest.mark.parametrize("direct", ["1", "0"])
def test_large_objects_round_trip_with_and_without_direct_io(tmp_path, monkeypatch, direct):
    from flowc.datastore.local import DIRECT_IO_MIN

    monkeypatch.setenv("FLOWC_DIRECT_IO", direct)
    storage = LocalStorage(tmp_path)
    head = os.urandom(1000)  # pieces of odd sizes: the staging buffer must stitch them
    body = os.urandom(DIRECT_IO_MIN + 12_345)
    sha, created = storage.write_object(layout.object_key, [head, b"", memoryview(body)])
    assert created and sha == hashlib.sha256(head + body).hexdigest()
    data = storage.read(layout.object_key(sha))
    assert hashlib.sha256(data).hexdigest() == sha and len(data) == len(head) + len(body)
    assert os.listdir(tmp_path / TEMP_FOLDER) == []
