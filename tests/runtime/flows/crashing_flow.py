"""Reliability tests: the end step prints a line, then crashes with a segmentation fault."""

import ctypes

from flowc import FlowSpec, step


class CrashingFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        print("Crash and burn!", flush=True)
        ctypes.string_at(0)  # reads address 0: SIGSEGV


if __name__ == "__main__":
    CrashingFlow()
