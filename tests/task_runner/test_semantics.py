"""What a step sees and what the runner stores: artifacts, joins, transitions, @catch, errors."""

from __future__ import annotations

import textwrap
from pathlib import Path

from flowc.datastore import layout
from flowc.datastore.local import LocalStorage
from flowc.metadata import TaskAddress, read_attempt, read_task
from tests.task_runner.driver import drive, run_one


def write_flow(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / f"{name.lower()}.py"
    header = "from flowc import FlowSpec, Parameter, step, catch, retry\n\n"
    path.write_text(header + f"class {name}(FlowSpec):\n" + textwrap.indent(textwrap.dedent(body), "    "))
    return path


def failure_line(capfd) -> str:
    return capfd.readouterr().err.strip().splitlines()[-1]


def test_inherited_artifacts_are_carried_by_reference_and_mutation_is_persisted(tmp_path):
    flow = write_flow(tmp_path, "MutateFlow", """
        @step
        def start(self):
            self.untouched = list(range(1000))
            self.read_only = {"a": 1}
            self.mutated = [1]
            self.next(self.middle)

        @step
        def middle(self):
            assert self.read_only == {"a": 1}
            self.mutated.append(2)
            self.next(self.end)

        @step
        def end(self):
            pass
    """)
    outcome = drive(flow, tmp_path / "ds")
    assert outcome.succeeded
    start, middle = outcome.task("start")["artifacts"], outcome.task("middle")["artifacts"]
    assert middle["untouched"]["sha"] == start["untouched"]["sha"]
    assert middle["read_only"]["sha"] == start["read_only"]["sha"]
    assert middle["mutated"]["sha"] != start["mutated"]["sha"]
    assert outcome.artifacts("end")["mutated"] == [1, 2]
    assert outcome.artifacts("start")["mutated"] == [1]  # nothing already stored is altered


def test_reading_one_artifact_loads_only_that_object(tmp_path):
    flow = write_flow(tmp_path, "LazyFlow", """
        @step
        def start(self):
            self.small = 1
            self.other = "x" * 100_000  # over PACK_MAX: an object of its own
            self.next(self.end)

        @step
        def end(self):
            self.seen = self.small + 1
    """)
    storage = LocalStorage(tmp_path / "ds")
    assert run_one(flow, tmp_path / "ds", {"flow": "LazyFlow", "step": "start", "run_id": "r"})[0] == 0
    address = TaskAddress(flow="LazyFlow", run_id="r", step="start")
    other = read_task(storage, address)["artifacts"]["other"]
    Path(storage.path(layout.object_key(other["sha"]))).unlink()  # never read: may as well be gone
    assert run_one(flow, tmp_path / "ds", {"flow": "LazyFlow", "step": "end", "run_id": "r"})[0] == 0
    record = read_task(storage, TaskAddress(flow="LazyFlow", run_id="r", step="end"))
    assert record["artifacts"]["other"] == other


def test_merge_artifacts_conflict_names_the_artifacts(tmp_path, capfd):
    flow = write_flow(tmp_path, "ConflictFlow", """
        @step
        def start(self):
            self.shared = 1
            self.next(self.a, self.b)

        @step
        def a(self):
            self.x = 1
            self.y = "a"
            self.next(self.join)

        @step
        def b(self):
            self.x = 2
            self.y = "b"
            self.next(self.join)

        @step
        def join(self, inputs):
            self.merge_artifacts(inputs)
            self.next(self.end)

        @step
        def end(self):
            pass
    """)
    outcome = drive(flow, tmp_path / "ds")
    assert outcome.codes[("join", "join")] == [1]
    line = failure_line(capfd)
    assert "ConflictFlow/r1/join/join" in line and "x, y" in line


def test_merge_artifacts_include_exclude_and_join_reads(tmp_path):
    flow = write_flow(tmp_path, "MergeFlow", """
        level = Parameter("level", default=3, type=int)

        @step
        def start(self):
            self.shared = "same"
            self.next(self.a, self.b)

        @step
        def a(self):
            self.x = 1
            self.only_a = "A"
            self.next(self.join)

        @step
        def b(self):
            self.x = 2
            self.next(self.join)

        @step
        def join(self, inputs):
            self.level_seen = self.level  # parameters reach joins
            try:
                self.shared
            except AttributeError as exc:
                self.before_merge = str(exc)
            self.x = inputs.a.x + inputs.b.x  # set in the join: not merged
            self.merge_artifacts(inputs, exclude=["only_a"])
            self.next(self.end)

        @step
        def end(self):
            pass
    """)
    outcome = drive(flow, tmp_path / "ds")
    assert outcome.succeeded, outcome.codes
    end = outcome.artifacts("end")
    assert end["x"] == 3 and end["shared"] == "same" and end["level_seen"] == 3
    assert "only_a" not in end
    assert "merge_artifacts" in end["before_merge"]


def test_next_that_differs_from_the_graph_names_step_and_line(tmp_path, capfd):
    flow = write_flow(tmp_path, "WrongNextFlow", """
        @step
        def start(self):
            self.next(self.middle)

        @step
        def middle(self):
            self.next(self.end)

        @step
        def end(self):
            pass
    """)
    # The front end and the runner read the same source; hand the runner an IR that disagrees.
    from dataclasses import replace

    from flowc.frontend import build_ir
    from flowc.metadata import TaskAddress
    from flowc.task_runner import TaskSpec, load_flow, run_task

    ir = build_ir(flow)
    start = ir.step("start")
    wrong = replace(ir, steps=(replace(start, successors=("end",)), *ir.steps[1:]))
    loaded = load_flow(flow, "WrongNextFlow", ir=wrong)
    start_task = TaskAddress(flow="WrongNextFlow", run_id="r", step="start")
    spec = TaskSpec(address=start_task, source=str(flow), datastore=str(tmp_path / "ds"))
    assert run_task(spec, flow=loaded) == 1
    line = failure_line(capfd)
    assert "WrongNextFlow/r/start/start" in line and "'start'" in line and "self.next(middle)" in line
    assert f"{start.transition_location}" in line


def test_empty_foreach_names_step_and_line(tmp_path, capfd):
    flow = write_flow(tmp_path, "EmptyForeachFlow", """
        @step
        def start(self):
            self.items = []
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
    """)
    outcome = drive(flow, tmp_path / "ds")
    assert outcome.codes[("start", "start")] == [1]
    line = failure_line(capfd)
    assert "EmptyForeachFlow/r1/start/start" in line and "'items'" in line and "empty" in line
    assert "emptyforeachflow.py:" in line


def test_foreach_over_any_iterable_with_a_length(tmp_path):
    flow = write_flow(tmp_path, "RangeFlow", """
        @step
        def start(self):
            self.items = range(3)
            self.next(self.body, foreach="items")

        @step
        def body(self):
            self.square = self.input ** 2
            self.next(self.join)

        @step
        def join(self, inputs):
            self.squares = [i.square for i in inputs]
            self.next(self.end)

        @step
        def end(self):
            pass
    """)
    outcome = drive(flow, tmp_path / "ds")
    assert outcome.artifacts("end")["squares"] == [0, 1, 4]


def test_unpicklable_artifact_names_artifact_type_step_and_reason(tmp_path, capfd):
    flow = write_flow(tmp_path, "LockFlow", """
        @step
        def start(self):
            import threading
            self.fine = 1
            self.lock = threading.Lock()
            self.next(self.end)

        @step
        def end(self):
            pass
    """)
    code, _ = run_one(flow, tmp_path / "ds", {"flow": "LockFlow", "step": "start", "run_id": "r"})
    assert code == 1
    line = failure_line(capfd)
    assert "LockFlow/r/start/start" in line and "'lock'" in line and "_thread.lock" in line
    assert "'start'" in line and "pickle" in line
    storage = LocalStorage(tmp_path / "ds")
    address = TaskAddress(flow="LockFlow", run_id="r", step="start")
    assert read_task(storage, address) is None
    assert read_attempt(storage, address, 0)["status"] == "failed"


def test_catch_applies_on_the_last_attempt_only_and_stores_unpicklable_exceptions(tmp_path):
    flow = write_flow(tmp_path, "CatchRetryFlow", """
        @catch(var="problem")
        @retry(times=1)
        @step
        def start(self):
            import threading

            class Weird(Exception):
                pass

            error = Weird("cannot pickle me")
            error.lock = threading.Lock()
            raise error

        @catch(var="fine")
        @step
        def middle(self):
            self.next(self.end)

        @step
        def end(self):
            self.text = str(self.problem)
    """)
    source = flow.read_text().replace("raise error\n", "raise error\n        self.next(self.middle)\n")
    flow.write_text(source)
    outcome = drive(flow, tmp_path / "ds")
    assert outcome.codes[("start", "start")] == [1, 0]
    end = outcome.artifacts("end")
    # Metaflow's exception wrapper: str() is the traceback, ending with the type and the message
    assert end["text"].splitlines()[-1].endswith("Weird: cannot pickle me") and end["fine"] is None
    assert end["problem"].type.endswith(".Weird") and end["problem"].exception == "cannot pickle me"
    assert "raise error" in end["problem"].stacktrace


def test_join_without_merge_cannot_read_branch_artifacts(tmp_path, capfd):
    flow = write_flow(tmp_path, "NoMergeFlow", """
        @step
        def start(self):
            self.x = 1
            self.next(self.a, self.b)

        @step
        def a(self):
            self.next(self.join)

        @step
        def b(self):
            self.next(self.join)

        @step
        def join(self, inputs):
            self.y = getattr(self, "".join(["x"]))  # dynamic: the front end cannot see it
            self.next(self.end)

        @step
        def end(self):
            pass
    """)
    outcome = drive(flow, tmp_path / "ds")
    assert outcome.codes[("join", "join")] == [1]
    assert "no artifact 'x'" in failure_line(capfd)


def test_foreach_join_takes_the_latest_iteration_of_a_loop_in_the_body(tmp_path):
    flow = write_flow(tmp_path, "LoopInForeachFlow", """
        @step
        def start(self):
            self.limits = [1, 3]
            self.next(self.body, foreach="limits")

        @step
        def body(self):
            self.limit = self.input
            self.count = 0
            self.next(self.work)

        @step
        def work(self):
            self.count += 1
            self.next(self.check)

        @step
        def check(self):
            self.state = "again" if self.count < self.limit else "done"
            self.next({"again": self.work, "done": self.join}, condition="state")

        @step
        def join(self, inputs):
            self.counts = [i.count for i in inputs]
            self.next(self.end)

        @step
        def end(self):
            pass
    """)
    outcome = drive(flow, tmp_path / "ds")
    assert outcome.succeeded, outcome.codes
    assert ("check", "check-1.2") in outcome.codes and ("check", "check-0") in outcome.codes
    assert outcome.artifacts("end")["counts"] == [1, 3]
    inputs = outcome.task("join")["inputs"]
    assert inputs == ["LoopInForeachFlow/r1/check/check-0", "LoopInForeachFlow/r1/check/check-1.2"]


def test_catch_also_catches_a_timeout_after_the_retries(tmp_path):
    flow = write_flow(tmp_path, "CaughtTimeoutFlow", """
        @catch(var="problem")
        @retry(times=1)
        @timeout(seconds=1)
        @step
        def start(self):
            import time
            self.before = "set before the timeout"
            time.sleep(30)
            self.next(self.end)

        @step
        def end(self):
            self.kind = type(self.problem).__name__
            self.text = str(self.problem)
    """)
    flow.write_text(flow.read_text().replace("import FlowSpec,", "import FlowSpec, timeout,"))
    outcome = drive(flow, tmp_path / "ds")
    assert outcome.codes[("start", "start")] == [4, 0]  # the first attempt is retried, not caught
    end = outcome.artifacts("end")
    assert "TimeoutException: " in end["text"] and "@timeout of 1 s" in end["text"]
    assert "@timeout of 1 s" in end["problem"].exception
    assert end["problem"].type == "flowc.task_runner.errors.TimeoutException"
    assert end["before"] == "set before the timeout"


def test_foreach_splits_are_what_iterating_the_value_gives(tmp_path):
    # Like a DataFrame: len() counts rows, iteration gives the columns (Metaflow iterates).
    flow = write_flow(tmp_path, "TableFlow", """
        @step
        def start(self):
            self.table = Table()
            self.next(self.body, foreach="table")

        @step
        def body(self):
            self.column = self.input
            self.next(self.join)

        @step
        def join(self, inputs):
            self.columns = [i.column for i in inputs]
            self.next(self.end)

        @step
        def end(self):
            pass
    """)
    table = (
        "class Table:\n"
        "    def __len__(self):\n        return 5\n"
        "    def __iter__(self):\n        return iter(['a', 'b'])\n\n\n"
    )
    flow.write_text(flow.read_text().replace("class TableFlow", table + "class TableFlow"))
    outcome = drive(flow, tmp_path / "ds")
    assert outcome.succeeded, outcome.codes
    assert outcome.artifacts("end")["columns"] == ["a", "b"]
    assert outcome.task("start")["control"]["num_splits"] == 2


def test_merge_include_of_an_artifact_the_join_set_is_not_missing(tmp_path):
    flow = write_flow(tmp_path, "IncludeSetFlow", """
        @step
        def start(self):
            self.shared = 1
            self.next(self.a, self.b)

        @step
        def a(self):
            self.next(self.join)

        @step
        def b(self):
            self.next(self.join)

        @step
        def join(self, inputs):
            self.total = 2
            self.merge_artifacts(inputs, include=["shared", "total"])
            self.next(self.end)

        @step
        def end(self):
            pass
    """)
    outcome = drive(flow, tmp_path / "ds")
    assert outcome.succeeded, outcome.codes
    end = outcome.artifacts("end")
    assert end["shared"] == 1 and end["total"] == 2


def test_merge_conflict_names_the_line_of_the_call(tmp_path, capfd):
    flow = write_flow(tmp_path, "ConflictLineFlow", """
        @step
        def start(self):
            self.next(self.a, self.b)

        @step
        def a(self):
            self.x = 1
            self.next(self.join)

        @step
        def b(self):
            self.x = 2
            self.next(self.join)

        @step
        def join(self, inputs):
            self.merge_artifacts(inputs)
            self.next(self.end)

        @step
        def end(self):
            pass
    """)
    outcome = drive(flow, tmp_path / "ds")
    assert outcome.codes[("join", "join")] == [1]
    line_number = flow.read_text().splitlines().index("        self.merge_artifacts(inputs)") + 1
    assert f"at conflictlineflow.py:{line_number}" in failure_line(capfd)
