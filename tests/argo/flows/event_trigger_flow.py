"""@trigger on two events, one mapping payload fields onto parameters (an Argo Events Sensor)."""

from flowc import FlowSpec, Parameter, current, step, trigger


@trigger(events=[{"name": "data_ready", "parameters": {"day": "date", "table": "table"}}, "model_published"])
class EventTriggerFlow(FlowSpec):
    day = Parameter("day", default="1970-01-01")
    table = Parameter("table", default="events")
    limit = Parameter("limit", default=10)

    @step
    def start(self):
        # current.trigger: the events that started the run (None when started otherwise).
        started_by = current.trigger
        self.events = sorted((e.name, dict(e.payload)) for e in started_by) if started_by else None
        self.event_times = [e.timestamp.year for e in started_by] if started_by else None
        self.next(self.end)

    @step
    def end(self):
        print(self.day, self.table, self.limit)
        self.seen_in_end = "data_ready" in current.trigger if current.trigger else None


if __name__ == "__main__":
    EventTriggerFlow()
