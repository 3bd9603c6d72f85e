"""Shape: in each foreach index, a static split whose left branch has nested switches with cases
leading straight into the split's join (one of them with no step between: the inner switch itself
reaches the join), and whose right branch is a loop that leaves straight into the join."""

from flowc import FlowSpec, step


class NestedSwitchIntoJoinFlow(FlowSpec):
    @step
    def start(self):
        self.items = ["a", "b", "c"]
        self.next(self.each, foreach="items")

    @step
    def each(self):
        self.item = self.input
        self.next(self.left, self.right)

    @step
    def left(self):
        self.data = f"left-{self.item}"
        self.outer = "x" if self.item == "a" else "y"
        self.next({"x": self.x_way, "y": self.inner}, condition="outer")

    @step
    def x_way(self):
        self.data = f"x-{self.item}"
        self.next(self.inner_join)

    @step
    def inner(self):
        self.data = f"inner-{self.item}"
        self.deep = "self" if self.item == "b" else "z"
        self.next({"self": self.inner_join, "z": self.z_way}, condition="deep")

    @step
    def z_way(self):
        self.data = f"z-{self.item}"
        self.next(self.inner_join)

    @step
    def right(self):
        self.laps = getattr(self, "laps", 0) + 1
        self.data = f"right{self.laps}-{self.item}"
        self.state = "again" if self.laps < 2 else "done"
        self.next({"again": self.right, "done": self.inner_join}, condition="state")

    @step
    def inner_join(self, inputs):
        self.pair = sorted(i.data for i in inputs)
        self.next(self.outer_join)

    @step
    def outer_join(self, inputs):
        self.pairs = [i.pair for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    NestedSwitchIntoJoinFlow()
