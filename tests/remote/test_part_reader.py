"""The zero-copy request body of multipart uploads reads exactly the bytes of its part."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from flowc.datastore.s3 import _PartReader, _views

pieces = st.lists(st.binary(max_size=40), min_size=1, max_size=8)


@given(pieces, st.data())
def test_part_reader_reads_its_slice_of_the_joined_pieces(parts, data):
    joined = b"".join(parts)
    offset = data.draw(st.integers(0, len(joined)))
    length = data.draw(st.integers(0, len(joined) - offset))
    reader = _PartReader(_views(parts), offset, length)
    assert len(reader) == length
    expected = joined[offset : offset + length]
    sizes = data.draw(st.lists(st.integers(1, 17), max_size=10))
    got = b"".join(reader.read(size) for size in sizes) + reader.read()
    assert got == expected
    assert reader.tell() == length
    assert reader.read(5) == b""
    back = data.draw(st.integers(0, length))
    reader.seek(back)
    assert reader.read() == expected[back:]  # a retry seeks back and sends the same bytes
