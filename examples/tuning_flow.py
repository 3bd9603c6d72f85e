"""Tune a toy model: a grid search in parallel, a refinement loop, then two reports side by side.

    flowc check examples/tuning_flow.py
    flowc show examples/tuning_flow.py --mermaid
    flowc run examples/tuning_flow.py --target 0.95
"""

from flowc import FlowSpec, JSONType, Parameter, catch, resources, retry, step


class TuningFlow(FlowSpec):
    """Picks the best learning rate of a grid, refines it, and reports."""

    grid = Parameter("grid", default="[0.1, 0.5, 1.0, 2.0]", type=JSONType, help="learning rates to try")
    target = Parameter("target", default=0.9, type=float, help="stop refining at this score")
    MAX_ROUNDS = 5

    @step
    def start(self):
        """One training task per learning rate."""
        self.rates = list(self.grid)
        self.next(self.train, foreach="rates")

    @retry(times=2)
    @resources(cpu=1, memory="512Mi")
    @step
    def train(self):
        self.rate = self.input
        self.score = round(1 - abs(1.0 - self.rate) / 2, 3)
        self.next(self.pick)

    @step
    def pick(self, inputs):
        """Keep the best rate of the grid."""
        best = max(inputs, key=lambda i: i.score)
        self.best_rate, self.best_score = best.rate, best.score
        self.rounds = 0
        self.next(self.refine)

    @step
    def refine(self):
        self.rounds += 1
        self.best_score = min(1.0, round(self.best_score + 0.02, 3))
        self.next(self.decide)

    @step
    def decide(self):
        """Loop back to refine until the target or the round limit is reached."""
        finished = self.best_score >= self.target or self.rounds >= self.MAX_ROUNDS
        self.verdict = "done" if finished else "again"
        self.next({"again": self.refine, "done": self.evaluate}, condition="verdict")

    @step
    def evaluate(self):
        self.next(self.holdout, self.report)

    @catch(var="holdout_error")
    @step
    def holdout(self):
        self.holdout_score = round(self.best_score - 0.05, 3)
        self.next(self.join)

    @step
    def report(self):
        self.summary = f"rate {self.best_rate}: {self.best_score} after {self.rounds} round(s)"
        self.next(self.join)

    @step
    def join(self, inputs):
        self.summary = inputs.report.summary
        self.holdout_score = getattr(inputs.holdout, "holdout_score", None)
        self.next(self.end)

    @step
    def end(self):
        print(self.summary, "holdout:", self.holdout_score)


if __name__ == "__main__":
    TuningFlow()
