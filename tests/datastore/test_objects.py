"""Content-addressed objects and artifact serialisation: round trips, integrity, zero copy, errors."""

from __future__ import annotations

import datetime
import decimal
import fractions
import hashlib
import math
import pickle
import threading
import uuid
from collections import OrderedDict, deque
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays, scalar_dtypes

from flowc.datastore import layout, serialization
from flowc.datastore.local import LocalStorage
from flowc.datastore.objects import (
    PACK_MAX,
    WHOLE_PACK_MAX,
    CorruptObject,
    MissingObject,
    ObjectStore,
    load_artifact,
)
from flowc.datastore.serialization import SerializationError, decode, encode


def joined(value) -> bytes:
    return b"".join(bytes(piece) for piece in encode(value))


scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text() | st.binary()
    | st.complex_numbers(allow_nan=False) | st.dates() | st.datetimes() | st.decimals(allow_nan=False)
    | st.fractions() | st.uuids()
)
values = st.recursive(
    scalars,
    lambda children: st.lists(children) | st.tuples(children, children) | st.frozensets(scalars.filter(
        lambda v: not isinstance(v, float) or not math.isnan(v)), max_size=4)
    | st.dictionaries(st.text(max_size=8) | st.integers(), children, max_size=5),
    max_leaves=20,
)


@pytest.mark.slow
@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(value=values)
def test_values_of_many_types_round_trip_exactly(tmp_path, value):
    store = ObjectStore(LocalStorage(tmp_path))
    reference = store.put_value(value, name="v")
    loaded = store.load_value(reference)
    assert loaded == value and type(loaded) is type(value)
    assert reference["type"] == serialization.type_name(value)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(array=arrays(scalar_dtypes(), array_shapes(max_dims=3, max_side=70)))
def test_numpy_arrays_round_trip_with_dtype_shape_and_order(tmp_path, array):
    store = ObjectStore(LocalStorage(tmp_path))
    for candidate in (array, np.asfortranarray(array), array[::2]):
        loaded = store.load_value(store.put_value(candidate))
        # exactly what pickle itself gives (numpy drops the byte order of big-endian datetimes)
        assert loaded.dtype == pickle.loads(pickle.dumps(candidate, protocol=5)).dtype
        assert loaded.shape == candidate.shape
        np.testing.assert_array_equal(loaded, candidate)


def test_pandas_and_common_library_values_round_trip(tmp_path):
    store = ObjectStore(LocalStorage(tmp_path))
    frame = pd.DataFrame({"a": np.arange(50_000), "b": np.linspace(0, 1, 50_000), "c": ["x"] * 50_000})
    frame.index = pd.date_range("2024-01-01", periods=50_000, freq="min")
    series = pd.Series(pd.Categorical(["a", "b", "a"]))
    for value in (frame, series, OrderedDict(a=1), deque([1, 2]), datetime.timedelta(days=3),
                  decimal.Decimal("1.10"), fractions.Fraction(1, 3), uuid.UUID(int=7), Path("/x/y"),
                  {1, 2, 3}, b"\0" * 100_000, ValueError("kept")):
        loaded = store.load_value(store.put_value(value))
        if isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(loaded, value)
        elif isinstance(value, pd.Series):
            pd.testing.assert_series_equal(loaded, value)
        elif isinstance(value, Exception):
            assert type(loaded) is ValueError and str(loaded) == "kept"
        else:
            assert loaded == value


def test_large_buffers_are_out_of_band_aligned_and_loaded_without_copy(tmp_path):
    storage = LocalStorage(tmp_path)
    store = ObjectStore(storage)
    array = np.arange(1 << 20, dtype=np.float64)  # 8 MiB
    pieces = encode(array)
    assert any(isinstance(piece, memoryview) and piece.obj is not None for piece in pieces)
    assert sum(memoryview(p).nbytes for p in pieces) < array.nbytes + 4096  # no second copy inside
    reference = store.put_value(array)
    loaded = store.load_value(reference)
    np.testing.assert_array_equal(loaded, array)
    assert loaded.flags.writeable and loaded.flags.aligned
    assert not loaded.flags.owndata  # a view of the memory map, not a copy
    loaded[0] = 42.0  # copy-on-write: the stored object is unchanged
    assert store.load_value(reference)[0] == 0.0


@pytest.mark.parametrize("size", [100_000, 3_000_000])
def test_loaded_arrays_are_writable_whatever_their_size(tmp_path, size):
    store = ObjectStore(LocalStorage(tmp_path))
    loaded = store.load_value(store.put_value(np.zeros(size, dtype=np.uint8)))
    loaded[0] = 1
    assert loaded[0] == 1


def test_read_only_input_bytes_still_give_writable_arrays():
    pieces = encode(np.arange(100_000))
    loaded = decode(b"".join(bytes(piece) for piece in pieces))
    loaded[0] = 7
    assert loaded[0] == 7


def test_same_bytes_are_stored_once(tmp_path):
    storage = LocalStorage(tmp_path)
    store = ObjectStore(storage)
    first = store.put_value([1, 2, 3])
    second = store.put_value([1, 2, 3])
    assert first == second
    assert len(list(storage.list("objects"))) == 1


def test_stored_bytes_hash_to_the_name(tmp_path):
    storage = LocalStorage(tmp_path)
    reference = ObjectStore(storage).put_value({"k": np.ones(100_000)})
    data = Path(storage.path(layout.object_key(reference["sha"]))).read_bytes()
    assert hashlib.sha256(data).hexdigest() == reference["sha"] and len(data) == reference["size"]


@pytest.mark.parametrize("offset", [0, 20, -1])
def test_corrupt_object_raises_naming_it(tmp_path, offset):
    storage = LocalStorage(tmp_path)
    store = ObjectStore(storage)
    reference = store.put_value(np.arange(300_000))
    path = Path(storage.path(layout.object_key(reference["sha"])))
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptObject) as info:
        load_artifact(storage, reference)
    assert reference["sha"] in str(info.value) and "corrupt" in str(info.value)


def test_truncated_and_missing_objects(tmp_path):
    storage = LocalStorage(tmp_path)
    store = ObjectStore(storage)
    reference = store.put_value("text")
    path = Path(storage.path(layout.object_key(reference["sha"])))
    path.write_bytes(path.read_bytes()[:-2])
    with pytest.raises(CorruptObject):
        store.load_value(reference)
    path.unlink()
    with pytest.raises(MissingObject) as info:
        store.load_value(reference)
    assert reference["sha"] in str(info.value)


def test_unpicklable_value_names_artifact_type_step_and_reason():
    with pytest.raises(SerializationError) as info:
        encode({"lock": threading.Lock()}, name="state", step="train")
    message = str(info.value)
    assert "'state'" in message and "dict" in message and "'train'" in message and "lock" in message


def test_decode_rejects_foreign_bytes():
    with pytest.raises(serialization.DecodeError):
        decode(b"\x80\x05K\x01.")  # a bare pickle has no header
    assert decode(joined(5)) == 5


class _CountingStorage(LocalStorage):
    """A real local storage that records how the object store calls it."""

    def __init__(self, root: str) -> None:
        super().__init__(root)
        self.calls: list[tuple[str, int]] = []

    def write_objects(self, key_for, items):
        self.calls.append(("write_objects", len(items)))
        return super().write_objects(key_for, items)

    def write_object(self, key_for, parts):
        self.calls.append(("write_object", 1))
        return super().write_object(key_for, parts)


def test_put_values_packs_a_task_small_artifacts_into_one_object(tmp_path: Path) -> None:
    storage = _CountingStorage(str(tmp_path))
    store = ObjectStore(storage)
    kept = store.put_value([1, 2, 3], name="kept")
    storage.calls.clear()
    values = {f"small_{i}": (i, None) for i in range(50)}
    values["big"] = (b"x" * PACK_MAX, None)
    values["kept"] = ([1, 2, 3], kept)  # loaded from a parent and unchanged: not rewritten
    references = store.put_values(values, step="train")
    # One batch of two objects: the big value, and one pack of the fifty small ones.
    assert storage.calls == [("write_objects", 2), ("write_object", 1), ("write_object", 1)]
    assert references["kept"] == kept
    packs = {references[f"small_{i}"]["pack"] for i in range(50)}
    assert len(packs) == 1 and "pack" not in references["big"]
    assert len(list(storage.list("objects"))) == 3  # kept, big, the pack
    assert {name: store.load_value(ref) for name, ref in references.items()} == {
        **{f"small_{i}": i for i in range(50)},
        "big": b"x" * PACK_MAX,
        "kept": [1, 2, 3],
    }
    # Each packed value keeps its own hash: a damaged pack is caught value by value.
    (pack,) = packs
    path = tmp_path / "objects" / pack[:2] / pack
    damaged = bytearray(path.read_bytes())
    start = references["small_7"]["offset"]
    damaged[start + references["small_7"]["size"] - 1] ^= 0xFF
    path.write_bytes(bytes(damaged))
    fresh = ObjectStore(storage)  # the first store keeps the whole pack it read
    with pytest.raises(CorruptObject, match=references["small_7"]["sha"]):
        fresh.load_value(references["small_7"])
    assert fresh.load_value(references["small_8"]) == 8
    path.unlink()
    with pytest.raises(MissingObject, match=pack):
        ObjectStore(storage).load_value(references["small_8"])
    # A pack too large to keep whole is read value by value (ranged reads).
    large_pack = {**references["small_9"], "pack_size": WHOLE_PACK_MAX + 1}
    with pytest.raises(MissingObject, match=pack):
        ObjectStore(storage).load_value(large_pack)


def test_a_single_small_value_is_a_plain_object(tmp_path: Path) -> None:
    store = ObjectStore(LocalStorage(str(tmp_path)))
    reference = store.put_values({"only": ("one", None)})["only"]
    assert "pack" not in reference and store.load_value(reference) == "one"


def test_put_values_writes_nothing_when_one_value_cannot_be_pickled(tmp_path: Path) -> None:
    storage = LocalStorage(str(tmp_path))
    with pytest.raises(SerializationError, match="lock"):
        ObjectStore(storage).put_values({"fine": (1, None), "lock": (threading.Lock(), None)}, step="s")
    assert list(storage.list("objects")) == []
