"""Behaviour: resume. `fails_once` fails unless the run is a resume; `flowc resume` clones the rest."""

import random

from flowc import FlowSpec, current, step


class ResumeFlow(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2, 3]
        self.stamp = random.random()  # differs on every execution: a clone keeps the origin's value
        self.next(self.body, foreach="items")

    @step
    def body(self):
        self.value = self.input * 10
        self.body_stamp = random.random()
        self.next(self.join)

    @step
    def join(self, inputs):
        self.values = sorted(i.value for i in inputs)
        self.next(self.fails_once)

    @step
    def fails_once(self):
        if current.origin_run_id is None:
            raise RuntimeError("fails until the run is resumed")
        self.resumed_from = current.origin_run_id
        self.total = sum(self.values)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ResumeFlow()
