"""Refused by the Argo back end: a secret that is no Secret name, a Batch queue, and a schedule
with a parameter nobody can give."""

from flowc import FlowSpec, Parameter, batch, schedule, secrets, step


@schedule(hourly=True)
class RefusedFlow(FlowSpec):
    needed = Parameter("needed", required=True)

    @secrets(sources=["arn:aws:secretsmanager:us-east-1:1:secret:x"])
    @step
    def start(self):
        self.next(self.end)

    @batch(queue="my-queue")
    @step
    def end(self):
        pass
