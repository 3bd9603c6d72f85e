"""`current` members Metaflow flows use: is_user_branch, tempdir, graph, get(), `in`."""

import os
import tempfile

from flowc import FlowSpec, current, project, step


@project(name="shop")
class CurrentFlow(FlowSpec):
    """Reads current in every step."""

    LIMIT = 2

    @step
    def start(self):
        """Starts."""
        self.is_user_branch = current.is_user_branch
        self.tempdir = current.tempdir
        with tempfile.TemporaryDirectory(dir=current.tempdir) as folder:
            self.tempdir_usable = os.path.isdir(folder)
        self.has_run_id = "run_id" in current
        self.has_nothing = "no_such_member" in current
        self.got = (current.get("step_name"), current.get("no_such_member", "fallback"))
        self.graph = current.graph
        self.task_obj = current.task  # client objects, stored and read back anywhere
        self.run_obj = current.run
        self.tags_seen = current.tags
        self.items = list(range(self.LIMIT))
        self.next(self.body, foreach="items")

    @step
    def body(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    CurrentFlow()
