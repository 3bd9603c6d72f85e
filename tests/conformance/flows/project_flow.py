"""A @project flow that records what `current` says of its project and branch."""

from flowc import FlowSpec, current, project, step


@project(name="shop")
class ProjectFlow(FlowSpec):
    @step
    def start(self):
        self.facts = {
            "project_name": current.project_name,
            "branch_name": current.branch_name,
            "is_production": current.is_production,
            "project_flow_name": current.project_flow_name,
        }
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ProjectFlow()
