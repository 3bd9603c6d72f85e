"""Every decorator the Step Functions target lowers: resources, GPU, environment, secrets, retry,
timeout, @batch image and queue, @project naming and a schedule with a timezone."""

from flowc import (
    FlowSpec,
    batch,
    environment,
    project,
    resources,
    retry,
    schedule,
    secrets,
    step,
    timeout,
)


@project(name="analytics")
@schedule(cron="30 6 * * 1-5", timezone="Europe/Paris")
class FeaturesFlow(FlowSpec):
    @resources(cpu=2, memory=8192)
    @environment(vars={"MODE": "fast", "QUOTE": "it's {braced}"})
    @step
    def start(self):
        self.x = 1
        self.next(self.train)

    @batch(image="python:3.12-slim", queue="gpu-queue")
    @resources(gpu=1, memory=16384)
    @secrets(sources=["arn:aws:secretsmanager:us-east-1:123456789012:secret:db-creds-AbCdEf"])
    @retry(times=4, minutes_between_retries=1)
    @timeout(seconds=600)
    @step
    def train(self):
        self.y = self.x + 1
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    FeaturesFlow()
