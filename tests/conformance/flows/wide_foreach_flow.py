"""Shape: wide foreach; the width is a parameter, so one compiled document serves any width."""

from flowc import FlowSpec, Parameter, step


class WideForeachFlow(FlowSpec):
    width = Parameter("width", default=50, type=int)

    @step
    def start(self):
        self.shards = list(range(self.width))
        self.next(self.work, foreach="shards")

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
    WideForeachFlow()
