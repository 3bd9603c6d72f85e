"""A loop whose two steps have different @pypi environments: Airflow runs the loop in one task
(flowc.task_runner.region), and each step must still import its own version of tinypkg."""

from flowc import FlowSpec, pypi, step


class PypiLoopFlow(FlowSpec):
    @step
    def start(self):
        self.seen = []
        self.next(self.old)

    @pypi(packages={"tinypkg": "1.0"})
    @step
    def old(self):
        import tinypkg

        self.seen = [*self.seen, ("old", tinypkg.__version__)]
        self.next(self.new)

    @pypi(packages={"tinypkg": "2.0"})
    @step
    def new(self):
        import tinypkg

        self.seen = [*self.seen, ("new", tinypkg.__version__)]
        self.state = "again" if len(self.seen) < 4 else "done"
        self.next({"again": self.old, "done": self.end}, condition="state")

    @step
    def end(self):
        self.final = self.seen
