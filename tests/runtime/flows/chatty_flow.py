"""Output tests: a task that prints a lot on both streams, and a line without a newline at the end."""

import sys

from flowc import FlowSpec, step


class ChattyFlow(FlowSpec):
    @step
    def start(self):
        for i in range(20000):
            print(f"out line {i}")
        print("to stderr", file=sys.stderr)
        self.next(self.end)

    @step
    def end(self):
        sys.stdout.write("no newline at the end")


if __name__ == "__main__":
    ChattyFlow()
