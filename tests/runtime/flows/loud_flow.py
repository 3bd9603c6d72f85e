"""Output tests: LOUD_TASKS foreach tasks (default 16), each printing 5,000 lines to stdout and to
stderr as fast as it can."""

import os
import sys

from flowc import FlowSpec, step

LINES = 5000


class LoudFlow(FlowSpec):
    @step
    def start(self):
        self.items = list(range(int(os.environ.get("LOUD_TASKS", "16"))))
        self.next(self.shout, foreach="items")

    @step
    def shout(self):
        for i in range(LINES):
            print(f"task {self.input} out line {i}")
            print(f"task {self.input} err line {i}", file=sys.stderr)
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    LoudFlow()
