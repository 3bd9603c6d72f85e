"""@trigger_on_finish: a successful run of LinearFlow (deployed to the same Step Functions) starts
this flow (an EventBridge rule on metaflow.LinearFlow.end and its target)."""

from flowc import FlowSpec, current, step, trigger_on_finish


@trigger_on_finish(flow="LinearFlow")
class SfnFinishTriggerFlow(FlowSpec):
    @step
    def start(self):
        started_by = current.trigger
        self.upstream = started_by.run.pathspec if started_by else None
        self.upstream_message = started_by.run.data.message if started_by else None
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SfnFinishTriggerFlow()
