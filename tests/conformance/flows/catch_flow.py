"""Behaviour: @catch. The step raises; the run goes on with the exception in `failure`."""

from flowc import FlowSpec, catch, step


class CatchFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.fails)

    @catch(var="failure", print_exception=False)
    @step
    def fails(self):
        raise ValueError("broken on purpose")
        self.next(self.end)  # never reached: @catch sends the run on to `end`

    @step
    def end(self):
        self.failure_text = str(self.failure)
        self.failure_type = type(self.failure).__name__


if __name__ == "__main__":
    CatchFlow()
