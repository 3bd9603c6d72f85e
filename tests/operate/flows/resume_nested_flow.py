"""Behaviour: resume in place through a nested foreach. ``fails_once`` fails unless the run is a
resume; the tests copy this file and change that step's code before resuming."""

import random

from flowc import FlowSpec, current, step


class ResumeNestedFlow(FlowSpec):
    @step
    def start(self):
        self.outer = [1, 2]
        self.next(self.mid, foreach="outer")

    @step
    def mid(self):
        self.factor = self.input
        self.inner = [1, 2, 3]
        self.next(self.leaf, foreach="inner")

    @step
    def leaf(self):
        self.value = self.factor * self.input
        self.stamp = random.random()  # differs on every execution: a clone keeps the origin's value
        self.next(self.inner_join)

    @step
    def inner_join(self, inputs):
        self.subtotal = sum(i.value for i in inputs)
        self.next(self.outer_join)

    @step
    def outer_join(self, inputs):
        self.total = sum(i.subtotal for i in inputs)
        self.next(self.fails_once)

    @step
    def fails_once(self):
        if current.origin_run_id is None:
            raise RuntimeError("fails until the run is resumed")
        self.result = self.total  # CHANGED BY THE TEST
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ResumeNestedFlow()
