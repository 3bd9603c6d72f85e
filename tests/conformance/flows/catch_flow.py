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
        # Metaflow's exception wrapper: .type, .exception, and str() is the traceback
        self.failure_text = self.failure.exception
        self.failure_type = self.failure.type
        self.failure_printed = str(self.failure).splitlines()[-1]
        self.failure_in_step = "in fails" in self.failure.stacktrace


if __name__ == "__main__":
    CatchFlow()
