"""A foreach whose tasks take long enough (2 s each) that running them in parallel shows."""

import time

from flowc import FlowSpec, step


class ParallelForeachFlow(FlowSpec):
    @step
    def start(self):
        self.items = [0, 1, 2, 3]
        self.next(self.work, foreach="items")

    @step
    def work(self):
        time.sleep(2)
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
    ParallelForeachFlow()
