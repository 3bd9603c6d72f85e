"""A flow with cards of every kind: the default card, a blank card built from components (with
live refreshes), a custom card type that raises and one that times out."""

import time

from flowc import FlowSpec, Parameter, card, current, step
from flowc.cards import (
    Artifact,
    Image,
    Markdown,
    MetaflowCard,
    ProgressBar,
    PythonCode,
    Table,
    ValueBox,
    VegaChart,
)

# A 2x2 PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000020000000208020000"
    "00fdd49a730000001649444154789c63f8cfc0f09f81818181e13f0303"
    "0300211c04fc6fd3b1d20000000049454e44ae426082"
)
CHART = {
    "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
    "data": {"values": [{"a": "A", "b": 28}, {"a": "B", "b": 55}, {"a": "C", "b": 43}]},
    "mark": "bar",
    "encoding": {"x": {"field": "a", "type": "nominal"}, "y": {"field": "b", "type": "quantitative"}},
}


class BrokenCard(MetaflowCard):
    type = "broken_card"

    def render(self, task):
        raise RuntimeError("this card is broken on purpose")


class SlowCard(MetaflowCard):
    type = "slow_card"

    def render(self, task):
        time.sleep(30)
        return "never"


class CardFlow(FlowSpec):
    alpha = Parameter("alpha", default=0.5)

    @card(timeout=2, type="slow_card")
    @card(type="broken_card")
    @card(type="blank", id="report", refresh_interval=0.1)
    @card
    @step
    def start(self):
        self.rows = [[1, "one"], [2, "two"], [3, "three"]]
        self.picture = PNG
        print("hello from start")
        current.card.append(Markdown("Extra from **start**"))
        report = current.card["report"]
        bar = ProgressBar(max=3, label="rows")
        report.append(Markdown("# Report"))
        report.append(bar, id="bar")
        report.append(Table(self.rows, headers=["n", "name"]))
        report.append(Image(PNG, label="pixels"))
        report.append(ValueBox(title="alpha", value=self.alpha))
        report.append(VegaChart(CHART))
        report.append(Artifact({"k": [1, 2, 3]}, name="a dict"))
        report.append(PythonCode(code_string="print('hi')"))
        for done in range(1, 4):
            report.components["bar"].update(done)
            report.refresh(force=True)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    CardFlow()
