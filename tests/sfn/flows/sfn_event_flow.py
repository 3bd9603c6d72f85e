"""@trigger on one event, mapping payload fields onto parameters (an EventBridge rule and target)."""

from flowc import FlowSpec, Parameter, current, step, trigger


@trigger(event={"name": "data_ready", "parameters": {"day": "date", "rows": "rows"}})
class SfnEventFlow(FlowSpec):
    day = Parameter("day", default="1970-01-01")
    rows = Parameter("rows", default=0)
    limit = Parameter("limit", default=10)

    @step
    def start(self):
        started_by = current.trigger
        self.event = (started_by.event.name, dict(started_by.event.payload)) if started_by else None
        self.next(self.end)

    @step
    def end(self):
        self.summary = f"{self.day} {self.rows} {self.limit}"


if __name__ == "__main__":
    SfnEventFlow()
