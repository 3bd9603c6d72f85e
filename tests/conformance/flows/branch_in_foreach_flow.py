"""Shape: a static split inside each item of a foreach."""

from flowc import FlowSpec, step


class BranchInForeachFlow(FlowSpec):
    @step
    def start(self):
        self.words = ["ab", "cde"]
        self.next(self.each, foreach="words")

    @step
    def each(self):
        self.word = self.input
        self.next(self.length, self.reverse)

    @step
    def length(self):
        self.out = len(self.word)
        self.next(self.inner_join)

    @step
    def reverse(self):
        self.out = self.word[::-1]
        self.next(self.inner_join)

    @step
    def inner_join(self, inputs):
        self.summary = (inputs.length.out, inputs.reverse.out)
        self.word = inputs.length.word
        self.next(self.outer_join)

    @step
    def outer_join(self, inputs):
        self.summaries = sorted(i.summary for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    BranchInForeachFlow()
