"""The ``@card`` decorators of a step, read from the IR, with Metaflow's defaults.

``@card(type="default", id=None, options={}, timeout=45, save_errors=True, customize=False,
refresh_interval=5)``, several per step (https://docs.metaflow.org/api/step-decorators/card).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CardSpec", "card_specs", "flow_has_cards"]

_ID = re.compile(r"^[a-zA-Z0-9_]+$")


def _thaw(value: Any) -> Any:
    """The IR freezes lists into tuples; card options are handed to card classes as JSON-like data."""
    if isinstance(value, tuple):
        return [_thaw(item) for item in value]
    if isinstance(value, dict):
        return {key: _thaw(item) for key, item in value.items()}
    return value


@dataclass(frozen=True)
class CardSpec:
    """One ``@card`` of a step; ``position`` is its place among the step's cards (source order)."""

    position: int
    type: str = "default"
    id: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    timeout: float = 45.0
    save_errors: bool = True
    customize: bool = False
    refresh_interval: float = 5.0

    @classmethod
    def from_attributes(cls, position: int, attributes: dict[str, Any]) -> CardSpec:
        """The spec of ``@card(**attributes)``.

        Raises:
            ValueError: an argument has the wrong type or value (the front end reports it).
        """
        card_id = attributes.get("id")
        if card_id is not None and not (isinstance(card_id, str) and _ID.match(card_id)):
            raise ValueError(f"id {card_id!r} may only hold letters, digits and _")
        card_type = attributes.get("type", "default")
        if not isinstance(card_type, str) or not card_type:
            raise ValueError(f"type must be a card type's name, not {card_type!r}")
        options = _thaw(attributes.get("options") or {})
        if not isinstance(options, dict):
            raise ValueError(f"options must be a dict, not {type(options).__name__}")
        return cls(
            position=position,
            type=card_type,
            id=card_id,
            options=options,
            timeout=_positive(attributes.get("timeout", 45), "timeout"),
            save_errors=bool(attributes.get("save_errors", True)),
            customize=bool(attributes.get("customize", False)),
            refresh_interval=_positive(attributes.get("refresh_interval", 5), "refresh_interval"),
        )


def _positive(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ValueError(f"{what} must be a positive number of seconds, not {value!r}")
    return float(value)


def card_specs(step: Any) -> list[CardSpec]:
    """The ``@card`` decorators of ``step`` (an IR step), in source order."""
    found = [decorator for decorator in step.decorators if decorator.name == "card"]
    return [CardSpec.from_attributes(position, dict(d.attributes)) for position, d in enumerate(found)]


def flow_has_cards(flow: Any) -> bool:
    """Whether any step of ``flow`` (an IR flow) has ``@card``."""
    return any(decorator.name == "card" for step in flow.steps for decorator in step.decorators)
