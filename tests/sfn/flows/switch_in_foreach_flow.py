"""A switch inside a foreach, with @retry, @catch and @timeout on steps inside the Map and on the
join: a step inside the Map fails once and is retried, another's exception is caught."""

from flowc import FlowSpec, catch, current, retry, step, timeout


class SwitchInForeachFlow(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2, 3]
        self.next(self.pick, foreach="items")

    @retry(times=1, minutes_between_retries=0)
    @step
    def pick(self):
        self.n = self.input
        if self.n == 2 and current.retry_count == 0:
            raise RuntimeError("first attempt fails on purpose")
        self.attempts = current.retry_count + 1
        self.kind = "odd" if self.n % 2 else "even"
        self.next({"odd": self.odd, "even": self.even}, condition="kind")

    @catch(var="failure")
    @step
    def odd(self):
        self.tag = f"o{self.n}"
        if self.n == 3:
            raise ValueError("three is caught")
        self.next(self.after)

    @timeout(seconds=100)
    @step
    def even(self):
        self.tag = f"e{self.n}"
        self.next(self.after)

    @step
    def after(self):
        self.caught = type(self.failure).__name__ if getattr(self, "failure", None) else None
        self.next(self.join)

    @retry(times=2)
    @timeout(seconds=120)
    @step
    def join(self, inputs):
        self.tags = sorted(i.tag for i in inputs)
        self.attempts = sorted(i.attempts for i in inputs)
        self.caught = sorted(str(i.caught) for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SwitchInForeachFlow()
