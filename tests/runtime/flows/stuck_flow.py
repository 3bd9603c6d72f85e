"""@timeout on a step stuck in one C call that holds the GIL: neither SIGALRM nor the task runner's
watchdog thread can act, so only the runtime's own kill (after its grace margin) ends it."""

from flowc import FlowSpec, step, timeout


class StuckFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.stuck)

    @timeout(seconds=1)
    @step
    def stuck(self):
        self.total = sum(range(10**13))  # one C loop: no bytecode boundary for hours
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    StuckFlow()
