"""Class-level constants: artifacts of the run, in every step and through the client."""

import os
import threading

from flowc import FlowSpec, Parameter, step


class ConstantsFlow(FlowSpec):
    LIMIT = 3
    LABELS = {"a": 1, "b": 2}
    if os.environ.get("CONSTANTS_FLOW_LOCK"):  # Metaflow fails such a run before any step runs
        guard = threading.Lock()
    train_param = Parameter("train", default=2, type=int)
    tags_param = Parameter("labels", default="x,y", separator=",")

    class Helper:  # a class: not a constant (as in Metaflow)
        pass

    @staticmethod
    def double(x):  # a function: not a constant
        return 2 * x

    @step
    def start(self):
        marker = os.environ.get("CONSTANTS_FLOW_MARKER")
        if marker:
            open(marker, "w").close()
        self.items = list(range(self.LIMIT))
        self.next(self.train, foreach="items")

    @step
    def train(self):
        self.value = self.double(self.input) * self.train_param
        self.refused = []
        try:  # parameters and constants are read-only, as in Metaflow
            self.train_param = 0
        except AttributeError:
            self.refused.append("train_param")
        try:
            self.LIMIT = 0
        except AttributeError:
            self.refused.append("LIMIT")
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.value for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        print("total", self.total, "limit", self.LIMIT)


if __name__ == "__main__":
    ConstantsFlow()
