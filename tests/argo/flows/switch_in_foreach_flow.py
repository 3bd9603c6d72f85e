"""A switch inside each split of a foreach whose cases converge before the join, and a branch
inside a nested foreach body."""

from flowc import FlowSpec, step


class SwitchInForeachFlow(FlowSpec):
    @step
    def start(self):
        self.words = ["apple", "kiwi", "egg"]
        self.next(self.classify, foreach="words")

    @step
    def classify(self):
        self.kind = "vowel" if self.input[0] in "aeiou" else "consonant"
        self.next({"vowel": self.vowel, "consonant": self.consonant}, condition="kind")

    @step
    def vowel(self):
        self.tag = "V:" + self.input
        self.next(self.tagged)

    @step
    def consonant(self):
        self.tag = "C:" + self.input
        self.next(self.tagged)

    @step
    def tagged(self):
        self.letters = list(self.input[:2])
        self.next(self.letter, foreach="letters")

    @step
    def letter(self):
        self.next(self.upper, self.lower)

    @step
    def upper(self):
        self.form = self.input.upper()
        self.next(self.forms)

    @step
    def lower(self):
        self.form = self.input.lower()
        self.next(self.forms)

    @step
    def forms(self, inputs):
        self.pair = "".join(sorted(i.form for i in inputs))
        self.merge_artifacts(inputs, exclude=["form"])
        self.next(self.join_letters)

    @step
    def join_letters(self, inputs):
        self.pairs = [i.pair for i in inputs]
        self.tag = inputs[0].tag
        self.next(self.join)

    @step
    def join(self, inputs):
        self.tags = [i.tag for i in inputs]
        self.pairs = [i.pairs for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        pass
