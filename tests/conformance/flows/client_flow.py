"""Behaviour: the client API inside a step reads the task's own run, in the task's datastore and
namespace, whatever datastore is configured where the task runs."""

from flowc import Flow, FlowSpec, Run, current, get_namespace, step


class ClientFlow(FlowSpec):
    @step
    def start(self):
        self.secret = 42
        self.next(self.end)

    @step
    def end(self):
        run = Run(f"{current.flow_name}/{current.run_id}")
        self.seen = run["start"].task.data.secret
        self.listed = current.run_id in [r.id for r in Flow(current.flow_name)]
        self.own_namespace = get_namespace() == current.namespace


if __name__ == "__main__":
    ClientFlow()
