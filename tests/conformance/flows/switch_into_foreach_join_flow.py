"""Shape: a switch inside a foreach body whose cases lead straight into the foreach's join
(Metaflow's switch_in_foreach graph), one of them without a step between: each index takes one
case, the join gets one input per index."""

from flowc import FlowSpec, step


class SwitchIntoForeachJoinFlow(FlowSpec):
    @step
    def start(self):
        self.items = [
            {"kind": "a", "value": 1},
            {"kind": "b", "value": 2},
            {"kind": "skip", "value": 3},
            {"kind": "a", "value": 4},
        ]
        self.next(self.route, foreach="items")

    @step
    def route(self):
        self.kind = self.input["kind"]
        self.result = f"skipped{self.input['value']}"
        self.next({"a": self.handle_a, "b": self.handle_b, "skip": self.join}, condition="kind")

    @step
    def handle_a(self):
        self.result = f"A{self.input['value'] * 2}"
        self.next(self.join)

    @step
    def handle_b(self):
        self.result = f"B{self.input['value'] / 2}"
        self.next(self.join)

    @step
    def join(self, inputs):
        self.results = [i.result for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SwitchIntoForeachJoinFlow()
