"""Benchmark flow: a foreach of trivial tasks (width from --width)."""

from flowc import FlowSpec, Parameter, step


class BenchForeachFlow(FlowSpec):
    width = Parameter("width", default=1000, type=int)

    @step
    def start(self):
        self.items = list(range(self.width))
        self.next(self.work, foreach="items")

    @step
    def work(self):
        self.doubled = self.input * 2
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.doubled for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    BenchForeachFlow()
