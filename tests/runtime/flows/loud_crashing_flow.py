"""Reliability tests: the end step prints more than a pipe holds, then a last line, then crashes
with a segmentation fault right away (Metaflow's DetectSegFaultTest, made reliably racy)."""

import ctypes

from flowc import FlowSpec, step


class LoudCrashingFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        for i in range(200):
            print(f"line {i:03d} " + "x" * 1000)
        print("Crash and burn!")  # no flush: a printed line is on its way at once
        ctypes.string_at(0)  # reads address 0: SIGSEGV


if __name__ == "__main__":
    LoudCrashingFlow()
