"""The UI benchmark's flow: a foreach whose tasks the benchmark multiplies to 10,000."""

from flowc import FlowSpec, step


class WideFlow(FlowSpec):
    @step
    def start(self):
        self.items = list(range(3))
        self.next(self.work, foreach="items")

    @step
    def work(self):
        self.value = self.input * 2
        print(f"item {self.input}")
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.value for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        print(self.total)


if __name__ == "__main__":
    WideFlow()
