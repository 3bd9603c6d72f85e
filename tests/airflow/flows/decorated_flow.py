"""Every decorator the Airflow back end lowers: @project, @schedule with a timezone, @resources,
@kubernetes (every pod field), @environment (values that look like Jinja templates too), @secrets,
@retry, @timeout, @catch, and a required parameter."""

from flowc import (
    FlowSpec,
    Parameter,
    catch,
    environment,
    kubernetes,
    project,
    resources,
    retry,
    schedule,
    secrets,
    step,
    timeout,
)


@project(name="demo")
@schedule(cron="30 6 * * 1-5", timezone="Europe/Amsterdam")
class DecoratedFlow(FlowSpec):
    size = Parameter("size", default=3, type=int, help="how many items")
    label = Parameter("label", default="x")

    @step
    def start(self):
        self.items = list(range(self.size))
        self.next(self.train, foreach="items")

    @resources(cpu=2, memory=4096, gpu=1, disk=10240)
    @kubernetes(
        image="example.org/train:1.0",
        node_selector={"pool": "gpu"},
        service_account="trainer",
        shared_memory=2048,
        tolerations=[{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
    )
    @environment(vars={"MODE": "fast", "ALPHA": "1"})
    @secrets(sources=["db-credentials"])
    @retry(times=2, minutes_between_retries=1)
    @timeout(minutes=5)
    @step
    def train(self):
        self.score = self.input * 2
        self.next(self.join)

    @kubernetes(
        namespace="ml",
        image_pull_secrets=["registry-login"],
        node_selector={"topology.kubernetes.io/zone": "eu-west-1a"},
    )
    @environment(vars={"GREETING": "Hello {{ name }}", "BLOCK": "{% raw %}", "NOTE": "{# x #}"})
    @catch(var="failure")
    @step
    def join(self, inputs):
        self.best = max(i.score for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    DecoratedFlow()
