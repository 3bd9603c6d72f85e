"""Output tests: one line of LONG_LINE_BYTES bytes (default 4 MB) printed with no newline until
its end, in pieces, and a last line with no newline at all."""

import os
import sys

from flowc import FlowSpec, step

PATTERN = "0123456789abcdef"


class LongLineFlow(FlowSpec):
    @step
    def start(self):
        size = int(os.environ.get("LONG_LINE_BYTES", str(4 << 20)))
        piece = PATTERN * 4096  # 64 KiB
        written = 0
        while written < size:
            part = piece[: size - written]
            sys.stdout.write(part)
            sys.stdout.flush()
            written += len(part)
        sys.stdout.write("|END\n")
        self.next(self.end)

    @step
    def end(self):
        sys.stdout.write("no newline at the very end")


if __name__ == "__main__":
    LongLineFlow()
