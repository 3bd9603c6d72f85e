"""``current.card``: the components a running step adds to its cards, and live refreshes.

Same rules as Metaflow's (https://docs.metaflow.org/metaflow/visualizing-results/easy-custom-reports-with-card-components):

* ``current.card.append/extend/clear/components/refresh`` act on the step's *default editable*
  card: the one with ``customize=True``; else the only card whose type allows user components;
  else the only such card without an ``id``; else none (calls are ignored with one warning).
* ``current.card["id"]`` is the card with that ``id`` (editable or not); an unknown id gives a
  detached empty list and a warning, never an error.
* ``refresh(data)`` of a runtime-updatable card re-renders it while the task runs, at most every
  ``refresh_interval`` seconds (``@card`` argument, default 5; faster calls are ignored, as in
  Metaflow); a change of the component list renders the whole card, otherwise only a data update
  is written, and the whole card again after :data:`RENDER_INTERVAL` seconds (flowc's built-in
  cards, whose pages cannot apply data updates, render their page at each data update too).

Warnings go to stderr (``METAFLOW_CARD_NO_WARNING`` / ``FLOWC_CARD_NO_WARNING`` silence them);
they are never added to a card, so a card holds exactly what the step put in it.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any, Protocol

from flowc.cards.card import MetaflowCardComponent, create_component_id
from flowc.cards.decorator import CardSpec

__all__ = ["RENDER_INTERVAL", "CardComponentCollector", "CardComponentManager", "ComponentStore"]

#: A runtime card is rendered whole at least this often (seconds) while data updates flow.
RENDER_INTERVAL = 60.0


class RuntimeWriter(Protocol):
    """What writes a card while its task runs (:class:`flowc.cards.render.CardRenderer`)."""

    def card_class(self, card_type: str) -> type | None: ...

    def runtime(self, manager: CardComponentManager, mode: str) -> None: ...


def _warn(message: str) -> None:
    for name in ("FLOWC_CARD_NO_WARNING", "METAFLOW_CARD_NO_WARNING"):
        if os.environ.get(name, "").lower() in ("1", "true", "yes"):
            return
    print(f"[@card WARNING] {message}", file=sys.stderr)


def render_component(component: Any) -> Any:
    """What ``component`` renders to (a str or a JSON-able dict), or None when it cannot."""
    if not isinstance(component, MetaflowCardComponent):
        return None
    try:
        rendered = component.render()
    except Exception:
        return None
    if isinstance(rendered, str):
        return rendered
    if isinstance(rendered, dict):
        try:
            json.dumps(rendered)
        except (TypeError, ValueError):
            return None
        return rendered
    return None


class ComponentStore:
    """A card's components: a list in order and a map by component id."""

    def __init__(self, components: Iterable[Any] = ()) -> None:
        self._components: dict[str, Any] = {}
        self.layout_last_changed_on = time.time()
        for component in components:
            self.append(component)

    def _changed(self) -> None:
        self.layout_last_changed_on = time.time()

    def append(self, component: Any, id: str | None = None) -> None:
        if not isinstance(component, MetaflowCardComponent):
            _warn(f"{type(component).__name__} is not a card component (from flowc.cards); it is not added")
            return
        if id is not None:
            component.component_id = id
        elif component.component_id is None:
            component.component_id = create_component_id(component)
        self._components[component.component_id] = component
        self._changed()

    def extend(self, components: Iterable[Any]) -> None:
        for component in components:
            self.append(component)

    def clear(self) -> None:
        self._components.clear()
        self._changed()

    def __getitem__(self, key: str) -> Any:
        if key not in self._components:
            _warn(f"no component with id {key!r}: updates to it go nowhere")
            return _StubComponent(key)
        return self._components[key]

    def __setitem__(self, key: str, component: Any) -> None:
        if isinstance(component, MetaflowCardComponent):
            component.component_id = key
            self._components[key] = component
            self._changed()

    def __delitem__(self, key: str) -> None:
        if key in self._components:
            del self._components[key]
            self._changed()

    def __contains__(self, key: object) -> bool:
        return key in self._components

    def __iter__(self) -> Iterator[Any]:
        return iter(list(self._components.values()))

    def __len__(self) -> int:
        return len(self._components)

    def keys(self) -> list[str]:
        return list(self._components)

    def values(self) -> list[Any]:
        return list(self._components.values())

    def realtime_updatable(self) -> list[Any]:
        return [c for c in self._components.values() if getattr(c, "REALTIME_UPDATABLE", False)]


class _StubComponent(MetaflowCardComponent):
    """What ``components["missing"]`` returns: updates go nowhere (one warning was printed)."""

    def __init__(self, component_id: str) -> None:
        self._missing = component_id

    def update(self, *args: Any, **kwargs: Any) -> None:
        pass

    def render(self) -> None:
        return None


class CardComponentManager:
    """One card of the step: its components and its live refreshes."""

    def __init__(self, spec: CardSpec, writer: RuntimeWriter | None, components: Iterable[Any] = ()) -> None:
        self.spec = spec
        self._writer = writer
        self._components = ComponentStore(components)
        self._latest_user_data: Any = None
        self._last_refresh = 0.0
        self._last_render = 0.0
        self._last_layout: float | None = None
        self._render_seq = 0

    @property
    def components(self) -> ComponentStore:
        return self._components

    def append(self, component: Any, id: str | None = None) -> None:
        self._components.append(component, id=id)

    def extend(self, components: Iterable[Any]) -> None:
        self._components.extend(components)

    def clear(self) -> None:
        self._components.clear()

    def __iter__(self) -> Iterator[Any]:
        return iter(self._components)

    def __len__(self) -> int:
        return len(self._components)

    def refresh(self, data: Any = None, force: bool = False) -> None:
        """Shows the components' current values (and ``data``) in the card while the task runs."""
        self._latest_user_data = data
        now = time.time()
        if not force and now - self._last_refresh < self.spec.refresh_interval:
            return  # rate limit, as Metaflow: too frequent refreshes are dropped
        self._last_refresh = now
        if self._writer is None:
            return
        card_class = self._writer.card_class(self.spec.type)
        if card_class is None or not getattr(card_class, "RUNTIME_UPDATABLE", False):
            return
        first = self._last_render == 0
        layout_changed = self._last_layout != self._components.layout_last_changed_on
        if force or first or layout_changed or now - self._last_render > RENDER_INTERVAL:
            self._render_seq += 1
            self._last_render = now
            self._last_layout = self._components.layout_last_changed_on
            self._writer.runtime(self, "render_runtime")
            if not first:
                self._writer.runtime(self, "refresh")
        else:
            self._writer.runtime(self, "refresh")

    def serialized_components(self) -> list[Any]:
        """What each component renders to (what an editable card's constructor receives)."""
        return [r for r in (render_component(c) for c in self._components) if r is not None]

    def latest_data(self, final: bool = False, mode: str | None = None) -> dict[str, Any]:
        """The ``data`` given to a card's ``render_runtime``, ``refresh`` and ``reload_content_token``."""
        components = {}
        for component in self._components.realtime_updatable():
            rendered = render_component(component)
            if rendered is not None:
                components[component.component_id] = rendered
        user = self._latest_user_data
        try:
            json.dumps(user)
        except (TypeError, ValueError):
            _warn("data given to refresh() is not JSON serializable; it is ignored")
            user = {}
        return {
            "user": user,
            "components": components,
            "render_seq": "final" if final else self._render_seq,
            "component_update_ts": self._components.layout_last_changed_on,
            "mode": mode,
        }


class CardComponentCollector:
    """``current.card`` in a step with ``@card``."""

    def __init__(self, specs: list[CardSpec], writer: RuntimeWriter | None = None) -> None:
        self._writer = writer
        self.managers = [CardComponentManager(spec, writer) for spec in specs]
        self._by_id: dict[str, CardComponentManager] = {}
        self._warned: set[str] = set()
        self._default = self._default_editable()

    def _editable(self, spec: CardSpec) -> bool:
        card_class = self._writer.card_class(spec.type) if self._writer is not None else None
        return bool(card_class is not None and getattr(card_class, "ALLOW_USER_COMPONENTS", False))

    def _default_editable(self) -> CardComponentManager | None:
        ids = [m.spec.id for m in self.managers if m.spec.id is not None]
        for manager in self.managers:
            if manager.spec.id is not None and ids.count(manager.spec.id) == 1:
                self._by_id[manager.spec.id] = manager
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            _warn(
                f"several @card decorators have the id {duplicates[0]!r}: "
                f"current.card[{duplicates[0]!r}] will not work"
            )
        editable = [m for m in self.managers if self._editable(m.spec)]
        customized = [m for m in editable if m.spec.customize]
        if len(customized) > 1:
            _warn("several @card decorators have customize=True: current.card.append ignores them")
        if len(customized) == 1:
            return customized[0]
        if len(editable) == 1:
            return editable[0]
        without_id = [m for m in editable if m.spec.id is None]
        return without_id[0] if len(without_id) == 1 else None

    def _no_default(self, what: str) -> None:
        if what in self._warned:
            return
        self._warned.add(what)
        if len(self.managers) == 1:
            card_type = self.managers[0].spec.type
            exists = self._writer is not None and self._writer.card_class(card_type) is not None
            reason = (
                f"card type {card_type!r} is not editable"
                if exists
                else f"card type {card_type!r} does not exist"
            )
        else:
            reason = "it cannot choose between several editable @card decorators (give them ids)"
        _warn(f"current.card.{what} is ignored during this task: {reason}")

    # ---- the default editable card -------------------------------------------------------
    def append(self, component: Any, id: str | None = None) -> None:
        if self._default is None:
            return self._no_default("append")
        self._default.append(component, id=id)

    def extend(self, components: Iterable[Any]) -> None:
        if self._default is None:
            return self._no_default("extend")
        self._default.extend(components)

    def clear(self) -> None:
        if self._default is not None:
            self._default.clear()

    @property
    def components(self) -> ComponentStore | None:
        if self._default is None:
            self._no_default("components")
            return None
        return self._default.components

    def refresh(self, *args: Any, **kwargs: Any) -> None:
        if self._default is not None:
            self._default.refresh(*args, **kwargs)

    # ---- cards by id or type -------------------------------------------------------------
    def __getitem__(self, key: str) -> CardComponentManager | list[Any]:
        if key in self._by_id:
            return self._by_id[key]
        if f"id:{key}" not in self._warned:
            self._warned.add(f"id:{key}")
            _warn(
                f"current.card[{key!r}] does not exist (no @card(id={key!r}) on this step): "
                "it is an empty list not attached to any card"
            )
        return []

    def __setitem__(self, key: str, value: list[Any]) -> None:
        manager = self._by_id.get(key)
        if manager is None:
            _warn(f"current.card[{key!r}] does not exist (no @card(id={key!r}) on this step)")
            return
        if not isinstance(value, list):
            _warn(f"current.card[{key!r}] must be set to a list of components")
            return
        manager.clear()
        manager.extend(value)

    def get(self, type: str | None = None) -> list[Any]:
        """The components of every card of type ``type``."""
        return [c for m in self.managers if m.spec.type == type for c in m.components]
