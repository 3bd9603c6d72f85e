"""A flow with a card: trains a toy model per learning rate, then reports the best in a card.

flowc run examples/report_flow.py
flowc ui                      # then open the run, the `report` task and its card
"""

from flowc import FlowSpec, card, current, step
from flowc.cards import Markdown, Table, VegaChart


class ReportFlow(FlowSpec):
    """Fits y = 3x with gradient descent at three learning rates; the card compares them."""

    @step
    def start(self):
        self.rates = [0.01, 0.02, 0.04]
        self.next(self.train, foreach="rates")

    @step
    def train(self):
        """Twenty steps of gradient descent on y = 3x from w = 0."""
        self.rate = self.input
        w, self.losses = 0.0, []
        for _ in range(20):
            loss = sum((w * x - 3 * x) ** 2 for x in range(1, 6)) / 5
            self.losses.append(round(loss, 4))
            w -= self.rate * sum(2 * (w * x - 3 * x) * x for x in range(1, 6)) / 5
        self.weight = w
        print(f"rate {self.rate}: w = {w:.4f}, final loss {self.losses[-1]}")
        self.next(self.report)

    @card(type="blank", id="report")
    @step
    def report(self, inputs):
        """The card: a table of the runs and their loss curves."""
        results = sorted(((i.rate, i.weight, i.losses) for i in inputs), key=lambda r: r[2][-1])
        self.best_rate = results[0][0]
        card_ = current.card["report"]
        card_.append(Markdown(f"# Learning rates\nBest: **{self.best_rate}** (lowest final loss)."))
        card_.append(
            Table(
                [[rate, round(w, 4), losses[-1]] for rate, w, losses in results],
                headers=["rate", "w", "final loss"],
            )
        )
        points = [
            {"step": n, "loss": loss, "rate": str(rate)}
            for rate, _, losses in results
            for n, loss in enumerate(losses)
        ]
        card_.append(
            VegaChart(
                {
                    "mark": "line",
                    "width": 480,
                    "data": {"values": points},
                    "encoding": {
                        "x": {"field": "step", "type": "quantitative"},
                        "y": {"field": "loss", "type": "quantitative"},
                        "color": {"field": "rate", "type": "nominal"},
                    },
                }
            )
        )
        self.next(self.end)

    @step
    def end(self):
        print(f"best learning rate: {self.best_rate}")


if __name__ == "__main__":
    ReportFlow()
