"""Switch keys and parameter values that look like Argo template tags, expression syntax or
Kubernetes references must stay data."""

from flowc import FlowSpec, Parameter, environment, step


class AwkwardValuesFlow(FlowSpec):
    pick = Parameter("pick", default="a}}b")
    text = Parameter("text", default="{{workflow.name}} {{=1+1}} $(HOME) $$ {{ unclosed")

    @environment(vars={"TEMPLATE": "{{ jinja }}", "DOLLARS": "$(HOME) $$x $"})
    @step
    def start(self):
        import os

        self.seen_env = [os.environ["TEMPLATE"], os.environ["DOLLARS"]]
        self.seen_text = self.text
        self.choice = self.pick
        self.next(
            {"a}}b": self.braces, "it's {{x}}": self.quoted, "back\\slash\nline": self.other},
            condition="choice",
        )

    @step
    def braces(self):
        self.route = "braces"
        self.next(self.end)

    @step
    def quoted(self):
        self.route = "quoted"
        self.next(self.end)

    @step
    def other(self):
        self.route = "other"
        self.next(self.end)

    @step
    def end(self):
        pass
