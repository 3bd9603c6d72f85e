"""A loop that leaves straight into a static split's join, then two switch cases that are each a
loop and converge: steps after them run at the iteration of whichever loop ran."""

from flowc import FlowSpec, Parameter, step


class LoopsConvergeFlow(FlowSpec):
    route = Parameter("route", default="a")

    @step
    def start(self):
        self.next(self.fork)

    @step
    def fork(self):
        self.next(self.left, self.right)

    @step
    def left(self):
        self.laps = getattr(self, "laps", 0) + 1
        self.state = "again" if self.laps < 2 else "done"
        self.next({"again": self.left, "done": self.join}, condition="state")

    @step
    def right(self):
        self.laps = 0
        self.next(self.join)

    @step
    def join(self, inputs):
        self.laps = max(i.laps for i in inputs)
        self.pick = self.route
        self.next({"a": self.a_loop, "b": self.b_loop}, condition="pick")

    @step
    def a_loop(self):
        self.turns = getattr(self, "turns", 0) + 1
        self.state = "again" if self.turns < 3 else "done"
        self.next({"again": self.a_loop, "done": self.meet}, condition="state")

    @step
    def b_loop(self):
        self.turns = getattr(self, "turns", 0) + 10
        self.state = "again" if self.turns < 20 else "done"
        self.next({"again": self.b_loop, "done": self.meet}, condition="state")

    @step
    def meet(self):
        self.total = self.laps + self.turns
        self.next(self.end)

    @step
    def end(self):
        pass
