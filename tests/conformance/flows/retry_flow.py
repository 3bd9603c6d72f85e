"""Behaviour: @retry. The step fails on its first attempt and succeeds on the next."""

from flowc import FlowSpec, current, retry, step


class RetryFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.flaky)

    @retry(times=2, minutes_between_retries=0)
    @step
    def flaky(self):
        if current.retry_count == 0:
            raise RuntimeError("first attempt fails on purpose")
        self.attempts_needed = current.retry_count + 1
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    RetryFlow()
