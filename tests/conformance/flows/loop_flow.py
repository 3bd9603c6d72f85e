"""Shape: loop. A switch case jumps back to an earlier step until a condition holds."""

from flowc import FlowSpec, Parameter, step


class LoopFlow(FlowSpec):
    rounds = Parameter("rounds", default=3, type=int)

    @step
    def start(self):
        self.counter = 0
        self.history = []
        self.next(self.work)

    @step
    def work(self):
        self.counter += 1
        self.history = [*self.history, self.counter]
        self.next(self.decide)

    @step
    def decide(self):
        self.state = "again" if self.counter < self.rounds else "done"
        self.next({"again": self.work, "done": self.end}, condition="state")

    @step
    def end(self):
        self.final = self.counter


if __name__ == "__main__":
    LoopFlow()
