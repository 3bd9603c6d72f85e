"""Behaviour: @card and current.card render the same cards on every target (the task runner writes
them), and a card that fails never fails its task. The end step reads the start task's cards back
with the client, so the artifacts compared across targets hold what each target rendered."""

from flowc import FlowSpec, Task, card, current, step
from flowc.cards import Markdown, MetaflowCard, Table, VegaChart, get_cards


class BrokenCard(MetaflowCard):
    type = "broken_card"

    def render(self, task):
        raise RuntimeError("broken on purpose")


class CardFlow(FlowSpec):
    @card(type="broken_card")
    @card(type="blank", id="report")
    @card
    @step
    def start(self):
        self.rows = [[1, "one"], [2, "two"], [3, "three"]]
        current.card.append(Markdown("on the default card"))
        current.card["report"].append(Table(self.rows, headers=["n", "name"]))
        current.card["report"].append(VegaChart({"mark": "bar", "data": {"values": [{"a": 1}]}}))
        self.next(self.end)

    @step
    def end(self):
        start = Task(f"{current.flow_name}/{current.run_id}/start/start")
        cards = get_cards(start)
        self.cards = [[c.type, c.id, c.status] for c in cards]
        report = get_cards(start, id="report")[0].get()
        self.report_has_rows = "<td>three</td>" in report
        self.report_has_chart = "vegaEmbed(" in report
        default = get_cards(start, type="default")[0].get()
        self.default_has_components = "on the default card" in default


if __name__ == "__main__":
    CardFlow()
