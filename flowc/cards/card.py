"""The two base classes of ``metaflow.cards``: a card type and a card component.

A card type is a :class:`MetaflowCard` subclass with a unique ``type``; ``@card(type=T)`` renders
the subclass whose ``type`` is ``T`` (see :mod:`flowc.cards.registry` for where it is looked
for). A component is a :class:`MetaflowCardComponent`: ``render()`` returns what a card shows
(our built-in components return an HTML fragment; Metaflow's JSON-returning components work with
cards that expect JSON). Same public API as Metaflow's
(https://docs.metaflow.org/api/cards#defining-a-custom-card), our own implementation.
"""

from __future__ import annotations

import uuid
from typing import Any

__all__ = ["MetaflowCard", "MetaflowCardComponent", "create_component_id"]


class MetaflowCard:
    """Base class of card types: ``render(task)`` returns the card's HTML for a finished task.

    Attributes:
        type: the name ``@card(type=...)`` selects.
        ALLOW_USER_COMPONENTS: ``current.card.append`` may add components to this card (an
            "editable" card); the constructor then receives them as ``components=``.
        RUNTIME_UPDATABLE: ``current.card.refresh()`` re-renders it while the task runs
            (``render_runtime``) and stores data updates (``refresh``).
        RELOAD_POLICY: when a viewer should reload a runtime card (see the constants).
    """

    RELOAD_POLICY_NEVER = "never"
    RELOAD_POLICY_ALWAYS = "always"
    RELOAD_POLICY_ONCHANGE = "onchange"
    #: Replaced in a rendered card by its reload token.
    RELOAD_POLICY_TOKEN = "[METAFLOW_RELOAD_TOKEN]"

    type: str | None = None
    ALLOW_USER_COMPONENTS = False
    RUNTIME_UPDATABLE = False
    RELOAD_POLICY = RELOAD_POLICY_NEVER
    scope = "task"
    #: The latest runtime data (what ``refresh`` received), set before the final ``render``.
    runtime_data: Any = None

    def __init__(
        self,
        options: dict[str, Any] | None = None,
        components: Any = None,
        graph: Any = None,
        flow: Any = None,
        **kwargs: Any,
    ) -> None:
        pass

    def render(self, task: Any) -> str:
        """The card's HTML for ``task`` (a :class:`flowc.client.Task`)."""
        raise NotImplementedError

    def render_runtime(self, task: Any, data: dict[str, Any]) -> str:
        """The card's HTML while the task runs (``RUNTIME_UPDATABLE`` cards)."""
        raise NotImplementedError

    def refresh(self, task: Any, data: dict[str, Any]) -> Any:
        """The JSON data update stored for ``data`` (``RUNTIME_UPDATABLE`` cards)."""
        raise NotImplementedError

    def reload_content_token(self, task: Any, data: dict[str, Any]) -> str:
        """A token that changes when a viewer must reload the card (``RELOAD_POLICY_ONCHANGE``)."""
        return "content-token"


class MetaflowCardComponent:
    """Base class of card components: ``render()`` returns a string (or a JSON-able dict).

    A component with ``REALTIME_UPDATABLE = True`` takes ``update(...)`` while the task runs; the
    card shows the new value on the next ``current.card.refresh()``.
    """

    REALTIME_UPDATABLE = False
    _component_id: str | None = None

    @property
    def component_id(self) -> str | None:
        return self._component_id

    @component_id.setter
    def component_id(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("Component ID must be a string")
        self._component_id = value

    def update(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError

    def render(self) -> Any:
        raise NotImplementedError


def create_component_id(component: MetaflowCardComponent) -> str:
    """A fresh id such as ``markdown_1a2b3c`` for a component appended without one."""
    return f"{type(component).__name__.lower()}_{uuid.uuid4().hex[:6]}"
