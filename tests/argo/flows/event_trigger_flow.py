"""@trigger on two events, one mapping payload fields onto parameters (an Argo Events Sensor)."""

from flowc import FlowSpec, Parameter, step, trigger


@trigger(events=[{"name": "data_ready", "parameters": {"day": "date", "table": "table"}}, "model_published"])
class EventTriggerFlow(FlowSpec):
    day = Parameter("day", default="1970-01-01")
    table = Parameter("table", default="events")
    limit = Parameter("limit", default=10)

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        print(self.day, self.table, self.limit)


if __name__ == "__main__":
    EventTriggerFlow()
