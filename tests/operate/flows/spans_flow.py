"""A foreach whose three tasks record when they ran: with ``--max-workers 1`` the spans never
overlap (the deploy setting bounds the engine's concurrency)."""

import time

from flowc import FlowSpec, step


class SpansFlow(FlowSpec):
    @step
    def start(self):
        self.items = [0, 1, 2]
        self.next(self.body, foreach="items")

    @step
    def body(self):
        self.began = time.time()
        time.sleep(1)
        self.ended = time.time()
        self.next(self.join)

    @step
    def join(self, inputs):
        self.spans = sorted((i.began, i.ended) for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SpansFlow()
