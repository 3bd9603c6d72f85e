"""A static split inside a nested foreach: each (row, column) cell forks and joins again."""

from flowc import FlowSpec, step


class BranchInNestedForeachFlow(FlowSpec):
    @step
    def start(self):
        self.rows = [1, 2]
        self.next(self.row, foreach="rows")

    @step
    def row(self):
        self.r = self.input
        self.cols = ["a", "b"]
        self.next(self.cell, foreach="cols")

    @step
    def cell(self):
        self.c = self.input
        self.next(self.left, self.right)

    @step
    def left(self):
        self.side = f"{self.r}{self.c}L"
        self.next(self.meet)

    @step
    def right(self):
        self.side = f"{self.r}{self.c}R"
        self.next(self.meet)

    @step
    def meet(self, inputs):
        self.pair = "+".join(sorted(i.side for i in inputs))
        self.merge_artifacts(inputs, exclude=["side"])
        self.next(self.join_cols)

    @step
    def join_cols(self, inputs):
        self.pairs = sorted(i.pair for i in inputs)
        self.next(self.join_rows)

    @step
    def join_rows(self, inputs):
        self.all_pairs = sorted(p for i in inputs for p in i.pairs)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    BranchInNestedForeachFlow()
