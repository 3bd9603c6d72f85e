"""Behaviour: task ids are unique within a run (Metaflow's guarantee; users name files after them):
a static split, a foreach and a loop, every task recording ``current.task_id``."""

from flowc import FlowSpec, current, step


class TaskIdsFlow(FlowSpec):
    @step
    def start(self):
        self.ids = [current.task_id]
        self.next(self.left, self.right)

    @step
    def left(self):
        self.ids = [*self.ids, current.task_id]
        self.next(self.join)

    @step
    def right(self):
        self.ids = [*self.ids, current.task_id]
        self.next(self.join)

    @step
    def join(self, inputs):
        self.ids = sorted({i for branch in inputs for i in branch.ids} | {current.task_id})
        self.items = [1, 2]
        self.next(self.each, foreach="items")

    @step
    def each(self):
        self.ids = [*self.ids, current.task_id]
        self.next(self.gather)

    @step
    def gather(self, inputs):
        self.ids = sorted({i for branch in inputs for i in branch.ids} | {current.task_id})
        self.rounds = 0
        self.next(self.again)

    @step
    def again(self):
        self.rounds += 1
        self.ids = [*self.ids, current.task_id]
        self.next(self.decide)

    @step
    def decide(self):
        self.ids = [*self.ids, current.task_id]
        self.state = "more" if self.rounds < 2 else "done"
        self.next({"more": self.again, "done": self.end}, condition="state")

    @step
    def end(self):
        self.ids = [*self.ids, current.task_id]
        self.count = len(self.ids)
        self.unique = len(set(self.ids)) == len(self.ids)


if __name__ == "__main__":
    TaskIdsFlow()
