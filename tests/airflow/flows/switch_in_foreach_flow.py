"""A switch inside a foreach: each index takes its own case (a nested switch in one case, a step
that fails once and is retried), the cases meet, then a static branch runs inside the foreach
(a mapped step that fails once and is retried, a mapped join whose failure is caught), and the
foreach's join fails once and is retried."""

from flowc import FlowSpec, catch, current, retry, step


class SwitchInForeachFlow(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2, 3, 4]
        self.next(self.pick, foreach="items")

    @step
    def pick(self):
        self.way = "odd" if self.input % 2 else "even"
        self.next({"odd": self.odd, "even": self.even}, condition="way")

    @retry(times=1, minutes_between_retries=0)
    @step
    def odd(self):
        if self.input == 3 and current.retry_count == 0:
            raise RuntimeError("index 2 fails once")
        self.size = "big" if self.input > 1 else "small"
        self.next({"big": self.big, "small": self.small}, condition="size")

    @step
    def big(self):
        self.label = f"odd-big-{self.input}"
        self.next(self.meet)

    @step
    def small(self):
        self.label = f"odd-small-{self.input}"
        self.next(self.meet)

    @step
    def even(self):
        self.label = f"even-{self.input}"
        self.next(self.meet)

    @step
    def meet(self):
        self.next(self.left, self.right)

    @retry(times=1, minutes_between_retries=0)
    @step
    def left(self):
        if self.input == 2 and current.retry_count == 0:
            raise RuntimeError("index 1 fails once")
        self.shout = self.label.upper()
        self.next(self.both)

    @step
    def right(self):
        self.length = len(self.label)
        self.next(self.both)

    @catch(var="failure", print_exception=False)
    @step
    def both(self, inputs):
        if inputs.left.shout == "EVEN-4":
            raise ValueError("index 3 is caught")
        self.summary = (inputs.left.shout, inputs.right.length)
        self.next(self.join)

    @retry(times=1, minutes_between_retries=0)
    @step
    def join(self, inputs):
        if current.retry_count == 0:
            raise RuntimeError("the join fails once")
        self.summaries = sorted(i.summary for i in inputs if not getattr(i, "failure", None))
        self.failures = [i.failure.exception for i in inputs if getattr(i, "failure", None)]
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SwitchInForeachFlow()
