"""A foreach over an empty list: the run fails at the foreach step, saying why."""

from flowc import FlowSpec, step


class EmptyForeachFlow(FlowSpec):
    @step
    def start(self):
        self.items = []
        self.next(self.body, foreach="items")

    @step
    def body(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    EmptyForeachFlow()
