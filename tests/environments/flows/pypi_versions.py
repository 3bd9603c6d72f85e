"""Each step imports its own version of tinypkg: @pypi_base for the flow, @pypi on a step, disabled on end."""

from flowc import FlowSpec, pypi, pypi_base, step


@pypi_base(packages={"tinypkg": "1.0"})
class PypiVersionsFlow(FlowSpec):
    @step
    def start(self):
        import tinypkg

        self.start_version = tinypkg.__version__
        self.next(self.second)

    @pypi(packages={"tinypkg": "2.0"})
    @step
    def second(self):
        import tinypkg

        self.second_version = tinypkg.__version__
        self.next(self.end)

    @pypi(disabled=True)
    @step
    def end(self):
        try:
            import tinypkg
        except ImportError:
            self.end_version = None
        else:
            self.end_version = tinypkg.__version__
