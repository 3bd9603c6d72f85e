"""Shape: foreach over a list, a linear step inside the foreach, then the join."""

from flowc import FlowSpec, step


class ForeachFlow(FlowSpec):
    @step
    def start(self):
        self.items = ["a", "b", "c", "d"]
        self.next(self.body, foreach="items")

    @step
    def body(self):
        self.item = self.input
        self.position = self.index
        self.next(self.inner)

    @step
    def inner(self):
        self.label = f"{self.position}:{self.item.upper()}"
        self.next(self.join)

    @step
    def join(self, inputs):
        self.labels = [i.label for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        self.count = len(self.labels)


if __name__ == "__main__":
    ForeachFlow()
