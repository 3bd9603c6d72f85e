"""Every step decorator Argo lowers: resources, GPU, disk, image, node selector, tolerations,
service account, pull secrets, shared memory, environment, secrets, retry, timeout, catch; plus
@schedule with a timezone and @project."""

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


@project(name="demo_project")
@schedule(cron="30 2 * * *", timezone="Europe/Paris")
class DecoratedFlow(FlowSpec):
    alpha = Parameter("alpha", default=0.01, type=float)

    @environment(vars={"MODE": "train", "EMPTY": ""})
    @secrets(sources=["db-credentials", "api-token"])
    @step
    def start(self):
        self.next(self.train)

    @retry(times=4, minutes_between_retries=1.5)
    @timeout(seconds=600)
    @resources(cpu=2.5, memory=8192, gpu=1, disk=20480)
    @kubernetes(
        image="registry.example.com/ml:1.2",
        node_selector={"pool": "gpu"},
        tolerations=[{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}],
        service_account="trainer",
        image_pull_secrets=["regcred"],
        shared_memory=1024,
    )
    @step
    def train(self):
        self.next(self.report)

    @catch(var="problem")
    @step
    def report(self):
        self.next(self.end)

    @step
    def end(self):
        pass
