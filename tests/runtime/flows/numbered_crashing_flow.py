"""Reliability tests: the start step prints CRASH_LINES numbered lines of 1 KB, then dies as
CRASH_HOW says: ``segv`` (a segmentation fault) or ``kill`` (SIGKILLed by another process)."""

import os
import signal
import subprocess

from flowc import FlowSpec, step


class NumberedCrashingFlow(FlowSpec):
    @step
    def start(self):
        for number in range(1, int(os.environ.get("CRASH_LINES", "200")) + 1):
            print(f"{number:06d} " + "x" * 1016)  # 1 KB with its newline
        if os.environ.get("CRASH_HOW") == "kill":
            subprocess.run(["kill", "-KILL", str(os.getpid())], check=False)
        else:
            os.kill(os.getpid(), signal.SIGSEGV)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    NumberedCrashingFlow()
