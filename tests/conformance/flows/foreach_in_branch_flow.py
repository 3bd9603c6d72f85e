"""Shape: a foreach inside one branch of a static split."""

from flowc import FlowSpec, step


class ForeachInBranchFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.fan, self.plain)

    @step
    def fan(self):
        self.parts = [1, 2, 3]
        self.next(self.square, foreach="parts")

    @step
    def square(self):
        self.sq = self.input * self.input
        self.next(self.fan_join)

    @step
    def fan_join(self, inputs):
        self.squares = [i.sq for i in inputs]
        self.next(self.join)

    @step
    def plain(self):
        self.squares = []
        self.note = "plain"
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(inputs.fan_join.squares)
        self.note = inputs.plain.note
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ForeachInBranchFlow()
