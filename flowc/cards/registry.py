"""Which class renders ``@card(type=T)``.

Looked for, in order: flowc's built-in card types (:mod:`flowc.cards.basic`), then every
:class:`~flowc.cards.card.MetaflowCard` subclass imported in the task's process (a custom card
type defined in, or imported by, the flow file), then Metaflow's test card types
(:mod:`flowc.cards.test_cards`, imported only when a ``test_*`` type is asked for).
"""

from __future__ import annotations

__all__ = ["card_class"]


def _subclasses(base: type) -> list[type]:
    found, queue = [], list(base.__subclasses__())
    while queue:
        cls = queue.pop(0)
        found.append(cls)
        queue.extend(cls.__subclasses__())
    return found


def card_class(card_type: str) -> type | None:
    """The card class whose ``type`` is ``card_type``, or None."""
    from flowc.cards import basic  # noqa: F401  (registers the built-in types)
    from flowc.cards.card import MetaflowCard

    def search() -> type | None:
        matches = [cls for cls in _subclasses(MetaflowCard) if getattr(cls, "type", None) == card_type]
        builtin = [cls for cls in matches if cls.__module__ == "flowc.cards.basic"]
        return (builtin or matches or [None])[-1]

    found = search()
    if found is None and card_type.startswith("test_"):
        from flowc.cards import test_cards  # noqa: F401

        found = search()
    return found
