"""The UI tests' flow: a foreach, artifacts of several kinds, a log line, cards, and a step that can fail.

``Marker`` is a class of the flow file whose unpickling leaves a file named after the unpickling
process's pid in ``$FLOWC_TEST_MARKER_DIR``: the tests prove previews are made in a child process,
never in the server.
"""

import os

from flowc import FlowSpec, Parameter, card, current, step
from flowc.cards import Markdown, Table


class Marker:
    def __init__(self, label):
        self.label = label

    def __setstate__(self, state):
        self.__dict__.update(state)
        folder = os.environ.get("FLOWC_TEST_MARKER_DIR")
        if folder:
            with open(os.path.join(folder, f"unpickled-{os.getpid()}"), "w") as handle:
                handle.write(self.label)

    def __repr__(self):
        return f"Marker({self.label!r})"


class UiFlow(FlowSpec):
    """Squares a few numbers; fails in ``square`` when asked to."""

    fail = Parameter("fail", default=False, type=bool, help="raise in the square step")

    @step
    def start(self):
        self.numbers = [1, 2, 3]
        self.marker = Marker("start")
        self.blob = b"\x00\x01binary"
        self.next(self.square, foreach="numbers")

    @step
    def square(self):
        print(f"squaring {self.input}")
        if self.fail and self.input == 2:
            raise ValueError("two is not welcome here")
        self.square_value = self.input * self.input
        self.next(self.join)

    @card
    @card(type="blank", id="report")
    @step
    def join(self, inputs):
        self.squares = [i.square_value for i in inputs]
        report = current.card["report"]
        report.append(Markdown("# Squares"))
        report.append(Table([[n, n * n] for n in (1, 2, 3)], headers=["n", "square"]))
        self.next(self.end)

    @step
    def end(self):
        print("squares:", self.squares)


if __name__ == "__main__":
    UiFlow()
