"""A join that forgot its `inputs` argument, a read of an artifact no step assigns, an unreachable step.
Expected: join-missing-inputs, read-unassigned, unreachable-step
"""

from flowc import FlowSpec, Parameter, step


class ForgottenInputsFlow(FlowSpec):
    size = Parameter("size", default=3, type=int)

    @step
    def start(self):
        self.items = list(range(self.size))
        self.next(self.square, foreach="items")

    @step
    def square(self):
        self.value = self.input * self.input
        self.next(self.gather)

    @step
    def gather(self):  # a join: it should be `def gather(self, inputs)`
        self.next(self.end)

    @step
    def report(self):
        self.next(self.end)

    @step
    def end(self):
        print(self.total)


if __name__ == "__main__":
    ForgottenInputsFlow()
