"""A loop inside a nested foreach: each index goes round its own number of times, then a step
after the loop (one index raises, @catch records it) and the joins."""

from flowc import FlowSpec, catch, step


class LoopInNestedForeachFlow(FlowSpec):
    @step
    def start(self):
        self.rows = [1, 2]
        self.next(self.row, foreach="rows")

    @step
    def row(self):
        self.cols = list(range(self.input + 1))
        self.next(self.work, foreach="cols")

    @step
    def work(self):
        self.count = getattr(self, "count", 0) + 1
        self.next(self.decide)

    @step
    def decide(self):
        self.state = "again" if self.count <= self.input else "done"
        self.next({"again": self.work, "done": self.after}, condition="state")

    @catch(var="failure", print_exception=False)
    @step
    def after(self):
        if self.count == 3:
            raise ValueError("three rounds is too many")
        self.cell = self.count
        self.next(self.join_cols)

    @step
    def join_cols(self, inputs):
        self.cells = sorted(getattr(i, "cell", -1) for i in inputs)
        self.failures = sorted(i.failure.exception for i in inputs if getattr(i, "failure", None))
        self.next(self.join_rows)

    @step
    def join_rows(self, inputs):
        self.table = sorted((i.cells, i.failures) for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    LoopInNestedForeachFlow()
