"""Shape: nested foreach (a foreach inside a foreach), with foreach_stack()."""

from flowc import FlowSpec, step


class NestedForeachFlow(FlowSpec):
    @step
    def start(self):
        self.rows = [1, 2]
        self.next(self.row, foreach="rows")

    @step
    def row(self):
        self.row_value = self.input
        self.cols = ["x", "y", "z"]
        self.next(self.cell, foreach="cols")

    @step
    def cell(self):
        self.cell_name = f"{self.row_value}{self.input}"
        self.stack = [(index, size) for index, size, _ in self.foreach_stack()]
        self.next(self.join_cols)

    @step
    def join_cols(self, inputs):
        self.row_cells = [i.cell_name for i in inputs]
        self.next(self.join_rows)

    @step
    def join_rows(self, inputs):
        self.all_cells = [c for i in inputs for c in i.row_cells]
        self.next(self.end)

    @step
    def end(self):
        self.n = len(self.all_cells)


if __name__ == "__main__":
    NestedForeachFlow()
