"""A flow whose packages come from its base class in another file: this file never names them,
so a task must read its step's environment from the flow's IR, not from this file's text."""

from shared_packages import TinyPackagesFlow

from flowc import step


class InheritedPackagesFlow(TinyPackagesFlow):
    @step
    def start(self):
        import tinypkg

        self.version = tinypkg.__version__
        self.next(self.end)

    @step
    def end(self):
        pass
