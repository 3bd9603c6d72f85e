"""@retry, @timeout and @catch on steps inside a foreach body and on its join."""

from flowc import FlowSpec, catch, current, retry, step, timeout


class DecoratedForeachFlow(FlowSpec):
    @step
    def start(self):
        self.items = [0, 1, 2]
        self.next(self.body, foreach="items")

    @retry(times=2, minutes_between_retries=0)
    @timeout(seconds=120)
    @step
    def body(self):
        if self.input == 1 and current.retry_count == 0:
            raise RuntimeError("split 1 fails once")
        self.attempt = current.retry_count
        self.next(self.risky)

    @catch(var="problem")
    @step
    def risky(self):
        if self.input == 2:
            raise ValueError("split 2 is caught")
        self.next(self.join)

    @retry(times=1, minutes_between_retries=0)
    @catch(var="join_problem")
    @timeout(seconds=120)
    @step
    def join(self, inputs):
        if current.retry_count == 0:
            raise RuntimeError("the join fails once")
        self.attempts = [i.attempt for i in inputs]
        self.caught = [type(getattr(i, "problem", None)).__name__ for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        pass
