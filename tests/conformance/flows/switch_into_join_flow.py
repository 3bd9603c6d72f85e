"""Shape: a switch inside one branch of a static split whose cases lead straight into the split's
join (Metaflow's switch_in_branch graph), one of them without a step between: the join's inputs
hold only the case that ran (or the switch itself, when it chose the join)."""

from flowc import FlowSpec, Parameter, step


class SwitchIntoJoinFlow(FlowSpec):
    route = Parameter("route", default="c", help="c, d or skip: the case the switch takes")

    @step
    def start(self):
        self.base = 10
        self.next(self.pick, self.plain)

    @step
    def pick(self):
        self.choice = self.route
        self.data = f"pick{self.base}"
        self.next({"c": self.c_way, "d": self.d_way, "skip": self.join}, condition="choice")

    @step
    def c_way(self):
        self.data = f"c{self.base}"
        self.next(self.join)

    @step
    def d_way(self):
        self.data = f"d{self.base}"
        self.next(self.join)

    @step
    def plain(self):
        self.data = f"plain{self.base}"
        self.next(self.join)

    @step
    def join(self, inputs):
        self.results = sorted(i.data for i in inputs)
        self.count = len(inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SwitchIntoJoinFlow()
