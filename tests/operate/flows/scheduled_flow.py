"""A flow with an hourly schedule: deployed with ``--schedule-paused``, the schedule starts paused."""

from flowc import FlowSpec, schedule, step


@schedule(hourly=True)
class ScheduledFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ScheduledFlow()
