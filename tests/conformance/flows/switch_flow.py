"""Shape: switch. Only the chosen case runs; both cases continue to the same step."""

from flowc import FlowSpec, Parameter, step


class SwitchFlow(FlowSpec):
    mode = Parameter("mode", default="high", help="high or low")

    @step
    def start(self):
        self.route = self.mode
        self.next({"high": self.high, "low": self.low}, condition="route")

    @step
    def high(self):
        self.picked = "high"
        self.next(self.after)

    @step
    def low(self):
        self.picked = "low"
        self.next(self.after)

    @step
    def after(self):
        self.summary = f"picked {self.picked}"
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SwitchFlow()
