"""A flow whose ``hold`` step prints, then waits until the file ``gate`` exists (at most ten minutes):
a run that is surely running while a test terminates it or follows its logs."""

import os
import time

from flowc import FlowSpec, Parameter, step


class HoldFlow(FlowSpec):
    gate = Parameter("gate", help="a file whose existence lets the hold step end", default="")
    lines = Parameter("lines", help="lines hold prints before it waits", default=1)

    @step
    def start(self):
        self.next(self.hold)

    @step
    def hold(self):
        for number in range(self.lines):
            print(f"holding {number}", flush=True)
        deadline = time.time() + 600
        while self.gate and not os.path.exists(self.gate) and time.time() < deadline:
            time.sleep(0.2)
        self.released = bool(self.gate) and os.path.exists(self.gate)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    HoldFlow()
