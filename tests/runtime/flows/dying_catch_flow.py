"""A @catch step that SIGKILLs itself on every attempt: @catch's fallback attempt lets the run go on."""

import os
import signal

from flowc import FlowSpec, catch, retry, step


class DyingCatchFlow(FlowSpec):
    @step
    def start(self):
        self.before = "inherited"
        self.next(self.dies)

    @catch(var="ex", print_exception=False)
    @retry(times=2, minutes_between_retries=0)
    @step
    def dies(self):
        os.kill(os.getpid(), signal.SIGKILL)  # no exception to catch: the process just dies
        self.next(self.end)

    @step
    def end(self):
        self.ex_type = self.ex.type
        self.ex_message = self.ex.exception
        self.seen_before = self.before


if __name__ == "__main__":
    DyingCatchFlow()
