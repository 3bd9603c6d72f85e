"""The card storage contract: what the task runner writes, ``flowc card`` and ``flowc ui`` read."""

from __future__ import annotations

import json

import pytest

from flowc.cards.store import (
    CardEntry,
    CardRef,
    card_attempts,
    card_file_name,
    list_cards,
    read_card,
    write_card_file,
    write_index,
)
from flowc.datastore.storage import NotFound, open_storage


def _round_trip(storage) -> None:
    ref = CardRef("F", "r1", "start", "0", attempt=1)
    entries = [
        CardEntry("default", None, card_file_name(0, "default")),
        CardEntry("blank", "report", card_file_name(1, "blank", "report"), "error", "boom"),
    ]
    for position, entry in enumerate(entries):
        write_card_file(storage, ref, entry.file, f"<html>{position}</html>")
    write_index(storage, ref, entries)

    assert storage.exists("runs/F/r1/start/0/cards/attempt-1/index.json")
    assert card_attempts(storage, "F", "r1", "start", "0") == [1]
    read_ref, read_entries = list_cards(storage, "F", "r1", "start", "0")
    assert read_ref == ref and read_entries == entries
    assert read_card(storage, ref, read_entries[1]) == "<html>1</html>"
    assert list_cards(storage, "F", "r1", "start", "1") == (CardRef("F", "r1", "start", "1"), [])


def test_cards_round_trip_in_a_local_datastore(tmp_path) -> None:
    _round_trip(open_storage(str(tmp_path)))


def test_cards_round_trip_in_s3(s3_root) -> None:
    _round_trip(open_storage(s3_root))


def test_an_index_naming_another_key_is_refused(tmp_path) -> None:
    storage = open_storage(str(tmp_path))
    ref = CardRef("F", "r1", "start", "0")
    storage.write(ref.key("index.json"), json.dumps([{"type": "x", "file": "../task.json"}]).encode())
    with pytest.raises(ValueError, match="not a plain"):
        list_cards(storage, "F", "r1", "start", "0")
    with pytest.raises(ValueError):
        read_card(storage, ref, "../../task.json")
    with pytest.raises(NotFound):
        read_card(storage, ref, "missing.html")


def test_file_names_are_plain_and_stable() -> None:
    assert card_file_name(0, "default") == "card-0-default.html"
    assert card_file_name(2, "blank", "my id/x") == "card-2-blank-my_id_x.html"
