"""Metaflow client and flow API that Metaflow's own test suite uses, on a real run: parents and child
tasks, tags by tag filter and changed afterwards (client and ``tag`` command), ``current.task`` /
``current.run`` stored as artifacts, ``self._foreach_stack``, merge_artifacts' exception types,
parameters from ``METAFLOW_RUN_<NAME>``, ``METAFLOW_BRANCH`` and @project's system tags."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from flowc.client import Run, Task, namespace
from tests.conformance.matrix import REPO_ROOT
from tests.helpers.namespaces import every_namespace

FLOW = """
import os

from flowc import FlowSpec, Parameter, current, project, secrets, step
from flowc.exception import MissingInMergeArtifactsException, UnhandledInMergeArtifactsException

os.environ["METAFLOW_RUN_GREETING"] = "from the environment"
os.environ["METAFLOW_BRANCH"] = "feature"


@project(name="api")
class ApiFlow(FlowSpec):
    greeting = Parameter("greeting", default="default")

    @step
    def start(self):
        self.items = ["x", "y"]
        self.shared = 1
        self.next(self.each, foreach="items")

    @step
    def each(self):
        self.frames = [(f.step, f.var, f.index, f.num_splits, f.value) for f in self._foreach_stack]
        self.differs = self.input
        print("item", self.input)
        self.task_obj = current.task
        self.run_obj = current.run
        self.next(self.join)

    @step
    def join(self, inputs):
        try:
            self.merge_artifacts(inputs)
        except UnhandledInMergeArtifactsException as exc:
            self.unhandled = exc.artifact_names
        try:
            self.merge_artifacts(inputs, include=["nothing_like_it"])
        except MissingInMergeArtifactsException as exc:
            self.missing = exc.artifact_names
        self.merge_artifacts(inputs, include=["shared"])
        self.next(self.end)

    @secrets(sources=[{"type": "inline", "id": "1", "options": {"env_vars": {"SECRET_1": "pizza"}}}])
    @step
    def end(self):
        self.seen = (self.greeting, self.shared, current.branch_name, sorted(current.tags))
        self.secret = os.environ.get("SECRET_1")


if __name__ == "__main__":
    ApiFlow()
"""


def _python(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "FLOWC_USER": "tester"}
    env.pop("FLOWC_DATASTORE", None)
    return subprocess.run(
        [sys.executable, *args], cwd=folder, env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("api")
    (folder / "api_flow.py").write_text(FLOW, encoding="utf-8")
    done = _python(folder, "api_flow.py", "run", "--run-id-file", "run-id", "--tag", "刺身 means sashimi")
    assert done.returncode == 0, done.stdout + done.stderr
    with every_namespace():
        yield folder, Run(f"ApiFlow/{(folder / 'run-id').read_text()}", datastore=str(folder / ".flowc"))


def test_parameters_branch_and_inline_secrets(ran) -> None:
    _, run = ran
    assert run.data.seen == ("from the environment", 1, "test.feature", ["刺身 means sashimi"])
    assert {"project:api", "project_branch:test.feature"} <= run.system_tags
    assert run.data.secret == "pizza"  # @secrets of Metaflow's inline type


def test_merge_artifacts_raises_metaflow_exception_types(ran) -> None:
    _, run = ran
    join = run["join"].task
    assert join.data.unhandled == ["differs", "frames", "task_obj"]  # run_obj: the same in both
    assert join.data.missing == ["nothing_like_it"]


def test_foreach_stack_frames_and_current_objects_as_artifacts(ran) -> None:
    _, run = ran
    tasks = list(run["each"])
    assert sorted(t.data.frames for t in tasks) == [
        [("start", "items", 0, 2, "x")],
        [("start", "items", 1, 2, "y")],
    ]
    namespace("user:nobody")  # unpickled client objects open in any namespace
    for task in tasks:
        assert task.data.task_obj.pathspec == task.pathspec
        assert task.data.run_obj.pathspec == run.pathspec
        assert task.parent.parent.id == task.data.run_obj.id
    namespace(None)


def test_parents_children_and_tag_filters(ran) -> None:
    _, run = ran
    assert run.parent.pathspec == "ApiFlow" and run.parent.tags == frozenset()
    join = run["join"].task
    assert (
        sorted(t.pathspec.split("/", 2)[2] for t in join.parent_tasks) == ["each/1", "each/2"]
        or len(list(join.parent_tasks)) == 2
    )
    assert all(join.pathspec in set(t.child_task_pathspecs) for t in join.parent_tasks)
    assert [s.id for s in run["join"].parent_steps] == ["each"]
    assert [s.id for s in run["each"].child_steps] == ["join"]
    assert list(run.steps("not a tag")) == [] and list(run["end"].tasks("not a tag")) == []
    assert len(list(run.steps("刺身 means sashimi"))) == 4
    reopened = Task(join.pathspec, datastore=run._store.url, _namespace_check=False)
    assert reopened.metadata_dict["python_version"]
    assert [m.value for m in reopened.metadata if m.type == "attempt"] == ["0"]
    each = run["each"].task
    assert [line for _, line in each.loglines("stdout")] == [f"item {each.data.differs}"]


def test_tags_changed_after_the_run_through_the_client_and_the_command(ran) -> None:
    folder, run = ran
    run.add_tags(["one", "two"])
    run.replace_tag("one", "three")
    assert {"two", "three"} <= run.user_tags and "one" not in run.user_tags
    with pytest.raises(ValueError, match="system tag"):
        run.remove_tags(["two", "project:api"])  # all or nothing
    assert "two" in run.user_tags
    for bad in ("", "a" * 501, 4):
        with pytest.raises(ValueError):
            run.add_tag(bad)
    with pytest.raises(ValueError):
        run.replace_tags([], [])
    done = _python(folder, "api_flow.py", "tag", "add", "--run-id", run.id, "four", "project:api")
    assert done.returncode == 0, done.stderr
    listed = _python(folder, "api_flow.py", "tag", "list", "--flat", "--hide-system-tags", "--run-id", run.id)
    assert listed.stderr.splitlines()[1:] == sorted({"two", "three", "four", "刺身 means sashimi"})
    refused = _python(folder, "api_flow.py", "tag", "remove", "--run-id", run.id, "four", "project:api")
    assert refused.returncode == 1 and "system tag" in refused.stderr
