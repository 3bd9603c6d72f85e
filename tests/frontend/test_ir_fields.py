"""The IR's fields: decorators normalised, parameters typed, artifacts listed, values frozen."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowc.diagnostics import CompileError
from flowc.frontend import analyse, build_ir
from flowc.frontend.units import cpu_cores, gpu_count, mebibytes
from flowc.ir import (
    CatchSpec,
    ContainerSpec,
    DecoratorSpec,
    FlowIR,
    ProjectSpec,
    Resources,
    RetrySpec,
    ScheduleSpec,
    TimeoutSpec,
    Toleration,
)
from tests.frontend.helpers import write_flow

DECORATED = """
    MEMORY = 2 * 1024


    def card_base(**kwargs):
        return lambda cls: cls


    @project(name="demo")
    @schedule(hourly=True, timezone="Europe/Paris")
    @card_base(theme="dark")
    class Decorated(FlowSpec):
        '''A flow with every decorator.'''

        LIMIT = 10
        alpha = Parameter("alpha", default=0.5)
        blob = Parameter("blob", default={"k": [1, 2]}, type=JSONType)
        text_json = Parameter("text-json", default='{"a": 1}', type=JSONType, help="as text")
        when = Parameter("when", default=lambda ctx: "now")
        count = Parameter("count", default=MEMORY)
        flag = Parameter("flag", type=bool, required=True)
        data = IncludeFile("data", help="a file")

        @retry
        @timeout(minutes=1, seconds=30)
        @catch(var="err")
        @step
        def start(self):
            '''Begin.'''
            self.items = [1, 2]
            self.helper()
            self.next(self.work, foreach="items")

        def helper(self):
            return self.LIMIT

        @resources(memory="4Gi", cpu="500m", gpu=1, disk="10G")
        @kubernetes(memory=8192, cpu=0.25, image="python:3.11", node_selector="a=b,c=d",
                    tolerations=[{"key": "gpu", "operator": "Exists"}], image_pull_secrets=["s"])
        @environment(vars={"B": "2", "A": 1})
        @secrets(sources=["db-password", "api-key"])
        @card(type="blank")
        @step
        def work(self):
            self.value = self.input * self.LIMIT + self.count
            self.next(self.join)

        @batch(queue="q", iam_role="arn:role", memory=MEMORY, shared_memory="1Gi")
        @retry(times=1, minutes_between_retries=0)
        @timeout(hours=1)
        @step
        def join(self, inputs):
            self.values = [i.value for i in inputs]
            self.merge_artifacts(inputs, exclude=["value"])
            self.next(self.end)

        @step
        def end(self):
            print(self.values, self.err, self.alpha, self.name)
    """


@pytest.fixture(scope="module")
def decorated(tmp_path_factory: pytest.TempPathFactory) -> FlowIR:
    path = write_flow(tmp_path_factory.mktemp("flows"), "decorated_flow", DECORATED)
    ir, diagnostics = analyse(path)
    assert ir is not None, "\n".join(d.format() for d in diagnostics)
    assert not diagnostics, "\n".join(d.format() for d in diagnostics)
    return ir


def test_flow_level_fields(decorated: FlowIR) -> None:
    assert decorated.name == "Decorated"
    assert decorated.source_file == "decorated_flow.py"
    assert decorated.docstring == "A flow with every decorator."
    assert decorated.schedule == ScheduleSpec(cron="0 * * * *", timezone="Europe/Paris", line=11)
    assert decorated.project == ProjectSpec(name="demo", line=10)
    assert decorated.flow_decorators == (DecoratorSpec("card_base", (("theme", "dark"),)),)
    assert decorated.class_attributes == ("LIMIT",)


def test_parameters(decorated: FlowIR) -> None:
    p = {spec.name: spec for spec in decorated.parameters}
    assert [s.name for s in decorated.parameters] == [
        "alpha", "blob", "text-json", "when", "count", "flag", "data",
    ]
    assert (p["alpha"].type, p["alpha"].default, p["alpha"].has_default) == ("float", 0.5, True)
    assert p["blob"].type == "json" and p["blob"].default == {"k": (1, 2)}
    assert p["text-json"].default == '{"a": 1}' and p["text-json"].attribute == "text_json"
    assert p["text-json"].help == "as text"
    assert p["when"].deferred_default and not p["when"].has_default and p["when"].type == "str"
    assert (p["count"].type, p["count"].default) == ("int", 2048)  # non-literal: read by importing
    assert p["flag"].required and p["flag"].type == "bool" and not p["flag"].has_default
    assert p["data"].is_file and p["data"].type == "str"
    assert p["alpha"].location is not None and p["alpha"].location.file == "decorated_flow.py"


def test_step_decorators(decorated: FlowIR) -> None:
    start, work, join = decorated.step("start"), decorated.step("work"), decorated.step("join")
    assert start.retry == RetrySpec(times=3, minutes_between_retries=2.0)
    assert start.timeout == TimeoutSpec(seconds=90)
    assert start.catch == CatchSpec(var="err", print_exception=True)
    assert start.docstring == "Begin."
    # @resources and @kubernetes merge by taking the larger value.
    assert work.resources == Resources(cpu=0.5, memory_mb=8192, gpu=1, disk_mb=9537)
    assert work.container == ContainerSpec(
        image="python:3.11",
        node_selector=(("a", "b"), ("c", "d")),
        tolerations=(Toleration(key="gpu", operator="Exists"),),
        image_pull_secrets=("s",),
    )
    assert work.environment == (("A", "1"), ("B", "2"))
    assert work.secrets == ("db-password", "api-key")
    assert work.decorators == (DecoratorSpec("card", (("type", "blank"),)),)
    assert join.retry == RetrySpec(times=1, minutes_between_retries=0.0)
    assert join.timeout == TimeoutSpec(seconds=3600)
    assert join.resources == Resources(memory_mb=2048)
    assert join.container == ContainerSpec(queue="q", iam_role="arn:role", shared_memory_mb=1024)


def test_graph_fields(decorated: FlowIR) -> None:
    start, work, join, end = (decorated.step(n) for n in ("start", "work", "join", "end"))
    assert (start.kind, start.transition, start.foreach_var, start.matching_join) == (
        "foreach", "foreach", "items", "join",
    )
    assert (work.foreach_depth, join.foreach_depth, start.foreach_depth) == (1, 0, 0)
    assert (join.kind, join.is_join, join.split_of) == ("join", True, "start")
    assert end.kind == "end" and end.transition == "end" and end.successors == ()
    assert end.transition_location is None
    assert start.transition_location is not None and start.location is not None
    assert start.transition_location.line > start.location.line


def test_artifacts_leave_out_methods_and_flowspec_api(decorated: FlowIR) -> None:
    start, work, end = decorated.step("start"), decorated.step("work"), decorated.step("end")
    assert start.assigns == ("items",) and start.reads == ()
    assert work.reads == ("LIMIT", "count")
    assert work.assigns == ("value",)
    assert end.reads == ("alpha", "err", "values")


def test_round_trip_of_a_decorated_flow(decorated: FlowIR) -> None:
    assert FlowIR.from_json(decorated.to_json()) == decorated


@pytest.mark.parametrize(
    ("arguments", "cron"),
    [
        ("", "0 0 * * *"),
        ("daily=True", "0 0 * * *"),
        ("weekly=True", "0 0 * * 0"),
        ("hourly=True", "0 * * * *"),
        ("cron='*/5 * * * *'", "*/5 * * * *"),
        ("cron='0 10 * * ? *'", "0 10 * * *"),
        # EventBridge's six fields (Metaflow's Step Functions form): its weekdays count from 1 = Sunday.
        ("cron='0 10 ? * 2-6 *'", "0 10 * * 1-5"),
        ("cron='0 10 ? * MON-FRI *'", "0 10 * * 1-5"),
        ("cron='0 12 ? * 1,7 *'", "0 12 * * 0,6"),
        ("cron='0 0 ? * */2 *'", "0 0 * * 0,2,4,6"),
        # Vixie cron's 7 for Sunday, which Argo's parser does not take.
        ("cron='0 0 * * 5-7'", "0 0 * * 0,5-6"),
    ],
)
def test_schedule_forms(arguments: str, cron: str, tmp_path: Path) -> None:
    body = f"""
        @schedule({arguments})
        class S(FlowSpec):
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
        """
    ir = build_ir(write_flow(tmp_path, "s", body))
    assert ir.schedule is not None and ir.schedule.cron == cron


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ("cron='61 * * * *'", "minute '61' is outside 0-59"),
        ("cron='0 0 * *'", "4 fields"),
        ("cron='0 12 L * ? *'", "'L' has no standard cron form"),
        ("cron='0 12 ? * 2#1 *'", "'#' has no standard cron form"),
        ("cron='0 12 * * ? 2027'", "standard cron has no year field"),
        ("cron='*/0 * * * *'", "the step must be positive"),
        ("cron='0 0 * 13 *'", "month '13' is outside 1-12"),
        ("cron='0 0 * * 5-1'", "begins after it ends"),
        ("timezone='Mars/Olympus'", "timezone must be an IANA name"),
        ("timezone='../../etc/passwd'", "timezone must be an IANA name"),
    ],
)
def test_schedules_no_target_could_run_are_refused_at_the_decorator(
    arguments: str, message: str, tmp_path: Path
) -> None:
    body = f"""
        @schedule({arguments})
        class S(FlowSpec):
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
        """
    with pytest.raises(CompileError) as caught:
        build_ir(write_flow(tmp_path, "s", body))
    [diagnostic] = caught.value.diagnostics
    assert diagnostic.code == "bad-decorator" and diagnostic.line == 3  # after the two-line import
    assert message in diagnostic.message


def test_switch_fields(tmp_path: Path) -> None:
    body = """
        class W(FlowSpec):
            @step
            def start(self):
                self.n = 0
                self.next(self.work)

            @step
            def work(self):
                self.n += 1
                self.state = "again" if self.n < 3 else "done"
                self.next({"again": self.work, "done": self.end, "also": self.end}, condition="state")

            @step
            def end(self):
                pass
        """
    ir = build_ir(write_flow(tmp_path, "w", body))
    work = ir.step("work")
    assert work.kind == "switch" and work.condition == "state"
    cases = [(c.key, c.target) for c in work.switch_cases]
    assert cases == [("again", "work"), ("done", "end"), ("also", "end")]
    assert work.successors == ("work", "end")
    assert work.loop_targets == ("work",)
    assert work.predecessors == ("start", "work")
    assert work.reads == ("n",)


def test_flow_importing_fails_only_when_needed(tmp_path: Path) -> None:
    body = """
        import not_a_module_anywhere

        class F(FlowSpec):
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
        """
    assert build_ir(write_flow(tmp_path, "lazy", body)).name == "F"
    indent = "\n            "
    broken = body.replace(f"@step{indent}def end", f"@retry(times=TIMES){indent}@step{indent}def end")
    _, diagnostics = analyse(write_flow(tmp_path, "broken", broken))
    assert [d.code for d in diagnostics] == ["bad-decorator"]
    assert "ModuleNotFoundError" in diagnostics[0].message


@pytest.mark.parametrize(
    ("value", "mib"),
    [(4096, 4096), ("4096", 4096), ("4Gi", 4096), ("512Mi", 512), ("2G", 1908), ("1Ti", 1024**2),
     ("1.5Gi", 1536), ("500M", 477), ("2GB", 1908)],
)
def test_sizes_in_mebibytes(value: object, mib: int) -> None:
    assert mebibytes(value) == mib


@pytest.mark.parametrize(("value", "cores"), [(2, 2.0), ("0.5", 0.5), ("500m", 0.5), (1.5, 1.5)])
def test_cpu_cores(value: object, cores: float) -> None:
    assert cpu_cores(value) == cores


@pytest.mark.parametrize("value", ["lots", "-1Gi", 0, True, "4Qi", None])
def test_bad_sizes_are_refused(value: object) -> None:
    with pytest.raises(ValueError):
        mebibytes(value)


@pytest.mark.parametrize("value", ["x", "0m", -1, False])
def test_bad_cpus_are_refused(value: object) -> None:
    with pytest.raises(ValueError):
        cpu_cores(value)


def test_gpu_count() -> None:
    assert gpu_count("2") == 2
    with pytest.raises(ValueError):
        gpu_count(1.5)


def test_defaults_take_the_declared_type_as_metaflow_converts_them(tmp_path: Path) -> None:
    body = """
        class P(FlowSpec):
            count = Parameter("count", type=int, default="5")
            ratio = Parameter("ratio", type=float, default=2)
            verbose = Parameter("verbose", type=bool, default="yes")
            seed = Parameter("seed", type=str, default=42)
            data = IncludeFile("data", default="data.csv")

            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
        """
    ir = build_ir(write_flow(tmp_path, "typed", body))
    defaults = {p.name: p.default for p in ir.parameters}
    assert defaults == {"count": 5, "ratio": 2.0, "verbose": True, "seed": "42", "data": "data.csv"}
    assert isinstance(defaults["ratio"], float)
    assert FlowIR.from_json(ir.to_json()) == ir


def test_positional_parameter_arguments_in_metaflows_order(tmp_path: Path) -> None:
    body = """
        class P(FlowSpec):
            alpha = Parameter("alpha", 0.5, float, "learning rate", False, True)
            data = IncludeFile("data", True, False, "latin-1", "a file")

            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
        """
    ir = build_ir(write_flow(tmp_path, "positional", body), strict=True)
    alpha, data = ir.parameters
    assert (alpha.default, alpha.type, alpha.help, alpha.required) == (0.5, "float", "learning rate", False)
    assert (data.required, data.help, data.is_file) == (True, "a file", True)
