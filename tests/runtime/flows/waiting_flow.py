"""Reliability tests: three foreach tasks write FAULT_DIR/<index>.pids, then wait (up to 60 s)
for FAULT_DIR/go before they finish (and store their artifacts)."""

import os
import time

from flowc import FlowSpec, step


class WaitingFlow(FlowSpec):
    @step
    def start(self):
        self.items = [0, 1, 2]
        self.next(self.wait, foreach="items")

    @step
    def wait(self):
        folder = os.environ["FAULT_DIR"]
        with open(os.path.join(folder, f"{self.input}.pids"), "w") as handle:
            handle.write(str(os.getpid()))
        deadline = time.monotonic() + 60
        while not os.path.exists(os.path.join(folder, "go")) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.value = self.input
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    WaitingFlow()
