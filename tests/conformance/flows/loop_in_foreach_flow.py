"""A loop inside each split of a foreach, then a static split after the join (iterations > 0
inside a foreach body and joins after a loop)."""

from flowc import FlowSpec, step


class LoopInForeachFlow(FlowSpec):
    @step
    def start(self):
        self.limits = [1, 3]
        self.next(self.prepare, foreach="limits")

    @step
    def prepare(self):
        self.limit = self.input
        self.count = 0
        self.next(self.work)

    @step
    def work(self):
        self.count += 1
        self.next(self.decide)

    @step
    def decide(self):
        self.state = "again" if self.count < self.limit else "done"
        self.next({"again": self.work, "done": self.collect}, condition="state")

    @step
    def collect(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.counts = sorted(i.count for i in inputs)
        self.next(self.retry_loop)

    @step
    def retry_loop(self):
        self.rounds = getattr(self, "rounds", 0) + 1
        self.state = "again" if self.rounds < 2 else "done"
        self.next({"again": self.retry_loop, "done": self.fork}, condition="state")

    @step
    def fork(self):
        self.next(self.left, self.right)

    @step
    def left(self):
        self.side = "l"
        self.next(self.merge)

    @step
    def right(self):
        self.side = "r"
        self.next(self.merge)

    @step
    def merge(self, inputs):
        self.sides = sorted(i.side for i in inputs)
        self.merge_artifacts(inputs, exclude=["side"])
        self.next(self.end)

    @step
    def end(self):
        pass
