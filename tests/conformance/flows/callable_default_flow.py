"""Behaviour: callable parameter defaults (Metaflow's ``deploy_time_eval`` style) are called with the
parameter context where the run starts."""

from flowc import FlowSpec, Parameter, step


def _label(context):
    return f"{context.flow_name}:{context.parameter_name}"


class CallableDefaultFlow(FlowSpec):
    label = Parameter("label", default=_label)
    size = Parameter("size", type=int, default=lambda context: len(context.flow_name))

    @step
    def start(self):
        self.seen = (self.label, self.size)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    CallableDefaultFlow()
