"""Shape: static branch (split into two steps, then a join)."""

from flowc import FlowSpec, step


class BranchFlow(FlowSpec):
    @step
    def start(self):
        self.base = 10
        self.next(self.left, self.right)

    @step
    def left(self):
        self.side = "left"
        self.value = self.base + 1
        self.next(self.join)

    @step
    def right(self):
        self.side = "right"
        self.value = self.base + 2
        self.next(self.join)

    @step
    def join(self, inputs):
        self.values = sorted(i.value for i in inputs)
        self.left_side = inputs.left.side
        self.merge_artifacts(inputs, exclude=["side", "value"])
        self.next(self.end)

    @step
    def end(self):
        self.result = sum(self.values) + self.base


if __name__ == "__main__":
    BranchFlow()
