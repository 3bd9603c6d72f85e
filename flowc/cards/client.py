"""Reading cards back: ``get_cards(task)`` (as ``metaflow.cards.get_cards``), ``Task.cards``.

A task cloned by ``flowc resume`` shows its origin task's cards (``follow_resumed``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from flowc.cards.store import CardEntry, CardRef, list_cards, read_card, read_card_data

__all__ = ["Card", "CardContainer", "CardNotPresentException", "get_cards", "open_in_browser"]


def open_in_browser(path: str) -> bool:
    """Opens the file ``path`` in a graphical browser when there is a display; True if it did.

    Without one (a server, a CI job) nothing is opened: ``webbrowser`` would otherwise start a
    text browser in the terminal and block.
    """
    import os
    import sys
    import webbrowser

    graphical = sys.platform in ("darwin", "win32") or any(
        os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER")
    )
    return graphical and webbrowser.open(f"file://{os.path.abspath(path)}")


class CardNotPresentException(Exception):
    """No card matches (the task has none, or none of that type, id or hash)."""

    headline = "Card not found in datastore"

    def __init__(
        self,
        pathspec: str,
        card_type: str | None = None,
        card_hash: str | None = None,
        card_id: str | None = None,
    ) -> None:
        what = "card"
        if card_type is not None:
            what = f"card of type {card_type!r}"
        if card_id is not None:
            what += f" with id {card_id!r}"
        if card_hash is not None:
            what += f" with hash {card_hash!r}"
        super().__init__(f"{self.headline}: no {what} for {pathspec}")


class Card:
    """One card of a task: ``card.get()`` is its HTML; ``card.view()`` opens it in a browser."""

    def __init__(self, storage: Any, ref: CardRef, entry: CardEntry) -> None:
        self._storage = storage
        self._ref = ref
        self._entry = entry

    @property
    def type(self) -> str:
        return self._entry.type

    @property
    def id(self) -> str | None:
        return self._entry.id

    @property
    def status(self) -> str:
        """``ok``, ``error`` (rendering raised) or ``timeout``; the HTML says why."""
        return self._entry.status

    @property
    def error(self) -> str | None:
        return self._entry.error

    @property
    def attempt(self) -> int:
        return self._ref.attempt

    @property
    def path(self) -> str:
        """The card's key in the datastore."""
        return self._ref.key(self._entry.file)

    @property
    def hash(self) -> str:
        """A stable identifier of this card (``flowc card get --hash`` takes its first characters)."""
        return hashlib.sha1(f"{self._ref.pathspec}/{self.path}".encode()).hexdigest()

    def get(self) -> str:
        """The card's HTML."""
        return read_card(self._storage, self._ref, self._entry)

    def get_data(self) -> Any:
        """The latest data update of a runtime-updatable card (``{"data", "reload_token"}``), or None."""
        return read_card_data(self._storage, self._ref, self._entry)

    def view(self) -> str:
        """Writes the card to a temporary file and opens it in a browser (when there is a display);
        returns the file's path."""
        import tempfile

        with tempfile.NamedTemporaryFile("w", suffix=".html", delete=False, encoding="utf-8") as handle:
            handle.write(self.get())
        open_in_browser(handle.name)
        return handle.name

    def _repr_html_(self) -> str:
        return self.get()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Card) and (other._ref, other._entry) == (self._ref, self._entry)

    def __hash__(self) -> int:
        return hash((self._ref, self._entry.file))

    def __repr__(self) -> str:
        pathspec = self._ref.pathspec
        return f"Card(type={self.type!r}, id={self.id!r}, pathspec={pathspec!r}, hash={self.hash[:8]!r})"


class CardContainer:
    """The cards of a task, in decorator order: indexable, iterable, ``len()``."""

    def __init__(self, cards: list[Card], pathspec: str) -> None:
        self._cards = cards
        self.pathspec = pathspec

    def __len__(self) -> int:
        return len(self._cards)

    def __iter__(self) -> Iterator[Card]:
        return iter(self._cards)

    def __getitem__(self, index: int) -> Card:
        return self._cards[index]

    def _repr_html_(self) -> str:
        return "\n".join(card.get() for card in self._cards)

    def __eq__(self, other: object) -> bool:
        """Two containers are equal when they hold the same cards in the same order (the same
        task's ``Task.cards`` read twice compares equal)."""
        return isinstance(other, CardContainer) and other._cards == self._cards

    def __hash__(self) -> int:
        return hash(tuple(self._cards))

    def __repr__(self) -> str:
        return f"CardContainer({self._cards!r})"


def _task_parts(task: Any) -> tuple[Any, list[str], Any]:
    """``(storage, [flow, run, step, task], client Task)`` for a Task object or a pathspec string."""
    from flowc.client.objects import Task, _split
    from flowc.client.store import open_client_store

    if isinstance(task, str):
        parts = _split(task, 4, "task")  # checked as every pathspec is (flowc.ids): InvalidId, a ValueError
        store = open_client_store()
        task = Task._from_parts(store, *parts)
    return task._store.storage, task.pathspec.split("/"), task


def get_cards(
    task: Any,
    id: str | None = None,
    type: str | None = None,
    follow_resumed: bool = True,
    attempt: int | None = None,
) -> CardContainer:
    """The cards of ``task`` (a :class:`flowc.Task` or its pathspec), optionally by ``id`` or ``type``.

    Args:
        task: the task.
        id: only the card with this ``@card(id=...)``.
        type: only cards of this type.
        follow_resumed: a task cloned by ``flowc resume`` shows its origin task's cards.
        attempt: the attempt (default: the latest one that has cards).

    Raises:
        CardNotPresentException: no card matches.
    """
    storage, parts, client_task = _task_parts(task)
    if follow_resumed:
        origin = _origin(client_task)
        if origin is not None:
            storage, parts, client_task = _task_parts(origin)
    ref, entries = list_cards(storage, *parts, attempt=attempt)
    chosen = [
        Card(storage, ref, entry)
        for entry in entries
        if (type is None or entry.type == type) and (id is None or entry.id == id)
    ]
    if not chosen:
        raise CardNotPresentException("/".join(parts), card_type=type, card_id=id)
    return CardContainer(chosen, "/".join(parts))


def _origin(task: Any) -> Any:
    try:
        origin = task.origin_pathspec
    except Exception:
        return None
    if not origin:
        return None
    from flowc.client.objects import Task

    flow, run_id, step, task_id = origin.split("/")
    return Task._from_parts(task._store, flow, run_id, step, task_id)
