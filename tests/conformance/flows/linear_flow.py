"""Shape: linear. Artifacts set in one step are read in later ones; a class-level constant is an
artifact of the run too (as in Metaflow), on every target."""

from flowc import FlowSpec, step


class LinearFlow(FlowSpec):
    SEPARATOR = " "

    @step
    def start(self):
        self.numbers = [1, 2, 3]
        self.greeting = "hello"
        self.next(self.middle)

    @step
    def middle(self):
        self.total = sum(self.numbers)
        self.next(self.end)

    @step
    def end(self):
        self.message = f"{self.greeting}{self.SEPARATOR}{self.total}"


if __name__ == "__main__":
    LinearFlow()
