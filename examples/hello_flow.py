"""Hello, flowc: a parameter, a foreach over it, and a join.

    flowc check examples/hello_flow.py
    flowc show examples/hello_flow.py
    flowc run examples/hello_flow.py --greeting Hi
"""

from flowc import FlowSpec, Parameter, step


class HelloFlow(FlowSpec):
    """Greets each name in parallel and collects the greetings."""

    greeting = Parameter("greeting", default="Hello", help="how to greet")
    names = Parameter("names", default="Ada,Grace,Linus", help="comma-separated names")

    @step
    def start(self):
        """Split the names into a list to fan out over."""
        self.people = [n.strip() for n in self.names.split(",") if n.strip()]
        self.next(self.greet, foreach="people")

    @step
    def greet(self):
        """One task per name."""
        self.message = f"{self.greeting}, {self.input}!"
        self.next(self.join)

    @step
    def join(self, inputs):
        """Collect the greetings in the order of the names."""
        self.messages = [i.message for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        for message in self.messages:
            print(message)


if __name__ == "__main__":
    HelloFlow()
