"""Several mistakes at once: all are reported, each with its line, step and a hint.
Expected: bad-decorator, foreach-var-unassigned, missing-end, multiple-next, parameter-shadowed
"""

from flowc import FlowSpec, Parameter, resources, step


class TangledFlow(FlowSpec):
    name = Parameter("name", default="x")

    @step
    def start(self):
        self.next(self.fan, foreach="shards")

    @resources(memory="a lot")
    @step
    def fan(self):
        if self.input:
            self.next(self.again)
        else:
            self.next(self.start)

    @step
    def again(self):
        self.next(self.again)


if __name__ == "__main__":
    TangledFlow()
