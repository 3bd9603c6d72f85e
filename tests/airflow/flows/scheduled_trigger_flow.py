"""@schedule and @trigger together: the DAG runs on its cron schedule, and when its event arrives
(an AssetOrTimeSchedule), with a nested payload field mapped to a parameter."""

from flowc import FlowSpec, Parameter, schedule, step, trigger


@schedule(daily=True)
@trigger(event={"name": "nightly data/ready", "parameters": {"day": "meta.day"}})
class ScheduledTriggerFlow(FlowSpec):
    day = Parameter("day", default="today")

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        print(self.day)


if __name__ == "__main__":
    ScheduledTriggerFlow()
