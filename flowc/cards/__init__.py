"""Cards: HTML reports of a task made by its own code, with the API of ``metaflow.cards``.

```python
from flowc import FlowSpec, card, current, step
from flowc.cards import Markdown, Table

class Report(FlowSpec):
    @card(type="blank")
    @step
    def start(self):
        current.card.append(Markdown("# Results"))
        current.card.append(Table([[1, 2]], headers=["a", "b"]))
        self.next(self.end)
```

The task runner renders each card into the datastore (:mod:`flowc.cards.store`);
``flowc card list|get|view`` and :func:`get_cards` read them back. docs/cards.md has the details.
"""

from __future__ import annotations

from flowc.cards.basic import BlankCard, DefaultCard, ErrorCard
from flowc.cards.card import MetaflowCard, MetaflowCardComponent
from flowc.cards.client import Card, CardContainer, CardNotPresentException, get_cards
from flowc.cards.components import (
    Artifact,
    Error,
    EventsTimeline,
    Image,
    JSONViewer,
    Markdown,
    ProgressBar,
    PythonCode,
    Table,
    ValueBox,
    VegaChart,
    YAMLViewer,
)

__all__ = [
    "Artifact",
    "BlankCard",
    "Card",
    "CardContainer",
    "CardNotPresentException",
    "DefaultCard",
    "Error",
    "ErrorCard",
    "EventsTimeline",
    "Image",
    "JSONViewer",
    "Markdown",
    "MetaflowCard",
    "MetaflowCardComponent",
    "ProgressBar",
    "PythonCode",
    "Table",
    "ValueBox",
    "VegaChart",
    "YAMLViewer",
    "get_cards",
]
