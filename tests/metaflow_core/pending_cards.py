"""What ``metaflow_test`` imports of cards, while flowc has no ``flowc.cards.get_cards`` yet.

``metaflow_test/__init__.py`` imports ``get_cards`` and ``CardNotPresentException`` at its top, so
every flow of the suite needs them, cards or not. Until flowc offers them, the import hook points
the card paths here; the card tests themselves are listed as pending, not run.
"""

from __future__ import annotations

from typing import Any, NoReturn

__all__ = ["Card", "CardNotPresentException", "get_cards"]


class CardNotPresentException(Exception):
    headline = "Card not found"


class Card:
    pass


def get_cards(*args: Any, **kwargs: Any) -> NoReturn:
    raise CardNotPresentException("flowc has no cards yet")
