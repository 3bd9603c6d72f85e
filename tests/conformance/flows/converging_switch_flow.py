"""A switch case target that is also reached linearly from the other case (a guarded `when`),
and a switch inside a static branch."""

from flowc import FlowSpec, Parameter, step


class ConvergingSwitchFlow(FlowSpec):
    mode = Parameter("mode", default="direct")

    @step
    def start(self):
        self.route = self.mode
        self.next({"direct": self.target, "detour": self.detour}, condition="route")

    @step
    def detour(self):
        self.via = "detour"
        self.next(self.target)

    @step
    def target(self):
        self.seen = getattr(self, "via", "direct")
        self.next(self.fork)

    @step
    def fork(self):
        self.next(self.choose, self.plain)

    @step
    def choose(self):
        self.pick = "b" if self.seen == "detour" else "a"
        self.next({"a": self.case_a, "b": self.case_b}, condition="pick")

    @step
    def case_a(self):
        self.result = "A"
        self.next(self.after_case)

    @step
    def case_b(self):
        self.result = "B"
        self.next(self.after_case)

    @step
    def after_case(self):
        self.next(self.join)

    @step
    def plain(self):
        self.result = "plain"
        self.next(self.join)

    @step
    def join(self, inputs):
        self.results = sorted(i.result for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass
