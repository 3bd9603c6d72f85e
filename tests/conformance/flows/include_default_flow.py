"""Behaviour: an IncludeFile with a default path: the steps get the file's content, read where the
run starts (a local run), or snapshot into the code package when the flow is deployed."""

from flowc import FlowSpec, IncludeFile, step


class IncludeDefaultFlow(FlowSpec):
    table = IncludeFile("table", default="include_default.csv", help="a small CSV")

    @step
    def start(self):
        self.rows = [line.split(",") for line in self.table.splitlines()]
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    IncludeDefaultFlow()
