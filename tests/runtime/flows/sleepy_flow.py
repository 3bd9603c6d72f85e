"""Fault tests: tasks that record their pid (and a grandchild's) in FAULT_DIR, then sleep.

Without FAULT_DIR in the environment the tasks finish at once, so a resumed run succeeds.
"""

import os
import subprocess
import time

from flowc import FlowSpec, step


class SleepyFlow(FlowSpec):
    @step
    def start(self):
        self.items = [0, 1, 2]
        self.next(self.nap, foreach="items")

    @step
    def nap(self):
        folder = os.environ.get("FAULT_DIR")
        if folder:
            print(f"napping on item {self.input}", flush=True)  # the log a killed task leaves
            child = subprocess.Popen(["sleep", "120"])  # must die with the task
            with open(os.path.join(folder, f"nap-{self.input}.pids.tmp"), "w") as handle:
                handle.write(f"{os.getpid()} {child.pid}")
            os.rename(
                os.path.join(folder, f"nap-{self.input}.pids.tmp"),
                os.path.join(folder, f"nap-{self.input}.pids"),
            )
            time.sleep(120)
        self.slept = self.input
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.slept for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SleepyFlow()
