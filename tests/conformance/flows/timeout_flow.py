"""Behaviour: @timeout. The step sleeps past its limit; the run fails with a clear message."""

import time

from flowc import FlowSpec, step, timeout


class TimeoutFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.slow)

    @timeout(seconds=2)
    @step
    def slow(self):
        time.sleep(60)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    TimeoutFlow()
