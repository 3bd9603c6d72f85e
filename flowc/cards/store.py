"""Where a task attempt's cards live in the datastore, and how they are written and read.

Per task attempt, ``runs/<Flow>/<run_id>/<step>/<task_id>/cards/attempt-<n>/`` holds
``index.json`` (a JSON list of ``{"type", "id", "file", "status", "error"}``, one entry per card
of the step, in decorator order) and the self-contained HTML files it names. Every write goes
through the datastore's :class:`~flowc.datastore.storage.Storage` (local directory or S3), so a
card written on any target reads the same everywhere. The task runner writes (HTML first, the
index last, so an index never names a file that is not there); ``flowc card``, the client and
``flowc ui`` read.

A file name in an index is checked before it is read (one plain name in the attempt's folder),
so a tampered index cannot make a reader fetch another key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flowc.datastore import layout
from flowc.datastore.storage import NotFound, Storage

__all__ = [
    "INDEX_NAME",
    "STATUSES",
    "CardEntry",
    "CardRef",
    "card_attempts",
    "card_file_name",
    "data_file_name",
    "list_cards",
    "read_card",
    "read_card_data",
    "write_card_data",
    "write_card_file",
    "write_index",
]

INDEX_NAME = "index.json"
#: ``ok``: rendered; ``error``: rendering raised (the HTML says why); ``timeout``: rendering
#: took longer than the card's ``timeout`` (the HTML says so).
STATUSES = ("ok", "error", "timeout")
_FILE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,200}\.html$")


@dataclass(frozen=True)
class CardRef:
    """One task attempt whose cards are read or written."""

    flow: str
    run_id: str
    step: str
    task_id: str
    attempt: int = 0

    @property
    def prefix(self) -> str:
        return layout.cards_prefix(self.flow, self.run_id, self.step, self.task_id, self.attempt)

    @property
    def pathspec(self) -> str:
        return f"{self.flow}/{self.run_id}/{self.step}/{self.task_id}"

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}"


@dataclass(frozen=True)
class CardEntry:
    """One card in an attempt's ``index.json``.

    Attributes:
        type: the card type (``default``, ``blank``, ...).
        id: the ``id`` given to ``@card``, or None.
        file: the HTML file's name, beside ``index.json``.
        status: one of :data:`STATUSES`.
        error: why the card failed or timed out (one line), else None.
    """

    type: str
    id: str | None
    file: str
    status: str = "ok"
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "id": self.id,
            "file": self.file,
            "status": self.status,
            "error": self.error,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CardEntry:
        file = _checked(str(data["file"]))
        status = str(data.get("status") or "ok")
        if status not in STATUSES:
            raise ValueError(f"unknown card status {status!r}")
        card_id = data.get("id")
        return cls(
            type=str(data["type"]),
            id=None if card_id is None else str(card_id),
            file=file,
            status=status,
            error=data.get("error"),
        )


def card_file_name(position: int, card_type: str, card_id: str | None = None) -> str:
    """The HTML file name of the ``position``-th card of a step (stable across attempts)."""
    parts = [card_type] + ([card_id] if card_id else [])
    name = "-".join(re.sub(r"[^A-Za-z0-9_.]+", "_", part) for part in parts)
    return f"card-{position}-{name}"[:190] + ".html"


def data_file_name(file: str) -> str:
    """The JSON data update of a runtime-updatable card, beside its HTML file."""
    return file[: -len(".html")] + ".data.json"


def write_card_data(storage: Storage, ref: CardRef, file: str, data: Any) -> None:
    """Stores the latest data update of the card in ``file`` (``{"data", "reload_token", ...}``)."""
    body = json.dumps(data, sort_keys=True, default=str).encode("utf-8")
    storage.write(ref.key(data_file_name(_checked(file))), body)


def read_card_data(storage: Storage, ref: CardRef, entry: CardEntry | str) -> Any:
    """The latest data update of a card, or None when it has none."""
    file = _checked(entry.file if isinstance(entry, CardEntry) else entry)
    try:
        return json.loads(bytes(storage.read(ref.key(data_file_name(file)))))
    except NotFound:
        return None


def _checked(file: str) -> str:
    if not _FILE_NAME.match(file) or file == INDEX_NAME:
        raise ValueError(f"card file name {file!r} is not a plain .html name")
    return file


def write_card_file(storage: Storage, ref: CardRef, file: str, html: str | bytes) -> None:
    """Stores (or replaces) one card's HTML; a running task calls this again on each refresh."""
    data = html.encode("utf-8") if isinstance(html, str) else html
    storage.write(ref.key(_checked(file)), data)


def write_index(storage: Storage, ref: CardRef, entries: Iterable[CardEntry]) -> None:
    """Stores the attempt's ``index.json`` (after the files it names)."""
    body = json.dumps([entry.to_json() for entry in entries], indent=1, sort_keys=True)
    storage.write(ref.key(INDEX_NAME), body.encode("utf-8"))


def card_attempts(storage: Storage, flow: str, run_id: str, step: str, task_id: str) -> list[int]:
    """The attempts of a task that have an ``index.json``, in order."""
    prefix = f"{layout.task_prefix(flow, run_id, step, task_id)}/cards"
    attempts = set()
    for key in storage.list(prefix):
        folder, _, name = key[len(prefix) + 1 :].partition("/")
        number = folder[len("attempt-") :]
        if name == INDEX_NAME and folder.startswith("attempt-") and number.isdigit():
            attempts.add(int(number))
    return sorted(attempts)


def list_cards(
    storage: Storage, flow: str, run_id: str, step: str, task_id: str, attempt: int | None = None
) -> tuple[CardRef, list[CardEntry]]:
    """The cards of one attempt (default: the latest attempt that has cards).

    Returns:
        The attempt read and its entries; no entries when the task has no cards (yet).

    Raises:
        ValueError: the index is not a list of valid entries.
    """
    if attempt is None:
        attempts = card_attempts(storage, flow, run_id, step, task_id)
        attempt = attempts[-1] if attempts else 0
    ref = CardRef(flow, run_id, step, task_id, attempt)
    try:
        data = json.loads(bytes(storage.read(ref.key(INDEX_NAME))))
    except NotFound:
        return ref, []
    if not isinstance(data, list):
        raise ValueError(f"card index of {ref.pathspec} attempt {attempt} is not a list")
    return ref, [CardEntry.from_json(item) for item in data]


def read_card(storage: Storage, ref: CardRef, entry: CardEntry | str) -> str:
    """The HTML of one card of ``ref`` (an entry from :func:`list_cards`, or its file name).

    Raises:
        flowc.datastore.storage.NotFound: no such file.
        ValueError: the name is not a plain ``.html`` name.
    """
    file = _checked(entry.file if isinstance(entry, CardEntry) else entry)
    return bytes(storage.read(ref.key(file))).decode("utf-8", errors="replace")
