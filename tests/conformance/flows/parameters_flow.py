"""Behaviour: parameters of every type, required and defaulted, reach every step exactly as given."""

from flowc import FlowSpec, JSONType, Parameter, step


class ParametersFlow(FlowSpec):
    text = Parameter("text", help="any text: quotes, $(...), newlines, unicode", required=True)
    count = Parameter("count", default=2, type=int)
    ratio = Parameter("ratio", default=0.5, type=float)
    enabled = Parameter("enabled", default=False, type=bool)
    config = Parameter("config", default='{"k": [1, 2]}', type=JSONType)

    @step
    def start(self):
        self.seen_text = self.text
        self.next(self.end)

    @step
    def end(self):
        self.echo = {
            "text": self.text,
            "count": self.count,
            "ratio": self.ratio,
            "enabled": self.enabled,
            "config": self.config,
        }


if __name__ == "__main__":
    ParametersFlow()
