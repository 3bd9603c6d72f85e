"""Reliability tests: the step named by EXIT_IN ends its process with status 0 (``os._exit(0)``)
before its task is recorded; the step named by SLEEP_IN sleeps (with a child) until killed."""

import os

from flowc import FlowSpec, step


def _maybe_exit(name):
    if os.environ.get("EXIT_IN") == name:
        os._exit(0)


class ExitingFlow(FlowSpec):
    @step
    def start(self):
        self.items = [0, 1]
        _maybe_exit("start")
        self.next(self.middle, foreach="items")

    @step
    def middle(self):
        self.value = self.input * 10
        _maybe_exit("middle")
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.value for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        self.done = True
        _maybe_exit("end")


if __name__ == "__main__":
    ExitingFlow()
