"""A loop then a switch, then a step that fails until the run is resumed: each loop iteration and
the chosen case are cloned by a resume in place (their random stamps kept)."""

import random

from flowc import FlowSpec, current, step


class ResumeLoopFlow(FlowSpec):
    @step
    def start(self):
        self.counter = 0
        self.stamps = []
        self.next(self.work)

    @step
    def work(self):
        self.counter += 1
        self.stamps = [*self.stamps, random.random()]
        self.state = "again" if self.counter < 3 else "done"
        self.next({"again": self.work, "done": self.pick}, condition="state")

    @step
    def pick(self):
        self.case = "big" if self.counter > 2 else "small"
        self.next({"big": self.big, "small": self.small}, condition="case")

    @step
    def big(self):
        self.chosen_stamp = random.random()
        self.next(self.fails_once)

    @step
    def small(self):
        self.chosen_stamp = random.random()
        self.next(self.fails_once)

    @step
    def fails_once(self):
        if current.origin_run_id is None:
            raise RuntimeError("fails until the run is resumed")
        self.total = self.counter
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ResumeLoopFlow()
