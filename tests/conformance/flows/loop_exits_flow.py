"""A loop with two ways out (a third case jumps back), and a switch after a foreach."""

from flowc import FlowSpec, Parameter, step


class LoopExitsFlow(FlowSpec):
    limit = Parameter("limit", default=2, type=int)

    @step
    def start(self):
        self.n = 0
        self.next(self.work)

    @step
    def work(self):
        self.n += 1
        self.next(self.decide)

    @step
    def decide(self):
        self.way = "again" if self.n < self.limit else ("done" if self.limit < 5 else "abort")
        self.next({"again": self.work, "done": self.finish, "abort": self.cleanup}, condition="way")

    @step
    def finish(self):
        self.outcome = "finished"
        self.parts = [1, 2]
        self.next(self.part, foreach="parts")

    @step
    def part(self):
        self.value = self.input * self.n
        self.next(self.gather)

    @step
    def gather(self, inputs):
        self.values = [i.value for i in inputs]
        self.merge_artifacts(inputs, exclude=["value"])
        self.next(self.end)

    @step
    def cleanup(self):
        self.outcome = "cleaned"
        self.values = []
        self.next(self.end)

    @step
    def end(self):
        self.summary = f"{self.outcome} after {self.n} rounds: {self.values}"


if __name__ == "__main__":
    LoopExitsFlow()
