"""Step names that the Argo document also needs for itself: `main` (the entry DAG), `flowc_exit`
(the exit handler) and `<step>_foreach` (the name of a foreach body's template)."""

from flowc import FlowSpec, step


class ReservedNamesFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.main)

    @step
    def main(self):
        self.next(self.flowc_exit)

    @step
    def flowc_exit(self):
        self.xs = [1, 2]
        self.next(self.body, foreach="xs")

    @step
    def body(self):
        self.y = self.input * 2
        self.next(self.flowc_exit_foreach)

    @step
    def flowc_exit_foreach(self, inputs):
        self.ys = [i.y for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        pass
