"""A damaged stored object is repaired by the next write of the same bytes (issue 19 item 4), on
the local datastore and on S3 (moto over HTTP), whole-compared or (large) checked by size and windows."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import boto3
import pytest

from flowc.datastore import layout
from flowc.datastore.local import LocalStorage
from flowc.datastore.objects import CorruptObject, ObjectStore
from flowc.datastore.s3 import parse_s3_url
from flowc.datastore.storage import open_storage


def _damage(path: Path, at: int) -> None:
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[at] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("size", [1000, 9 << 20])  # compared whole; large: size and windows
def test_a_damaged_local_object_is_replaced_by_the_next_write_of_its_bytes(tmp_path: Path, size: int) -> None:
    storage = LocalStorage(str(tmp_path))
    objects = ObjectStore(storage)
    data = os.urandom(size)
    sha, _ = objects.put(data)
    path = Path(storage.path(layout.object_key(sha)))
    _damage(path, size // 2)
    with pytest.raises(CorruptObject, match="to repair it, run the task that stored it again"):
        objects.get(sha)
    assert storage.write_object(layout.object_key, data) == (sha, True)
    assert bytes(objects.get(sha)) == data
    assert storage.write_object(layout.object_key, data) == (sha, False)  # intact: not written again


def test_a_truncated_local_object_is_replaced(tmp_path: Path) -> None:
    storage = LocalStorage(str(tmp_path))
    sha, _ = ObjectStore(storage).put(b"x" * 5000)
    path = Path(storage.path(layout.object_key(sha)))
    os.chmod(path, 0o644)
    path.write_bytes(b"x" * 10)
    assert storage.write_object(layout.object_key, b"x" * 5000) == (sha, True)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == sha


def test_a_damaged_s3_object_is_replaced_by_the_next_write_of_its_bytes(s3_root: str, aws_env) -> None:
    storage = open_storage(s3_root)
    objects = ObjectStore(storage)
    data = os.urandom(3000)
    sha, _ = objects.put(data)
    bucket, prefix = parse_s3_url(s3_root)
    client = boto3.client("s3", endpoint_url=aws_env.endpoint)
    key = f"{prefix}/{layout.object_key(sha)}"
    client.put_object(Bucket=bucket, Key=key, Body=bytes([data[0] ^ 0xFF]) + data[1:])  # same size
    with pytest.raises(CorruptObject, match="to repair it"):
        objects.get(sha)
    assert storage.write_object(layout.object_key, data) == (sha, True)
    assert bytes(objects.get(sha)) == data
    assert storage.write_object(layout.object_key, data) == (sha, False)
