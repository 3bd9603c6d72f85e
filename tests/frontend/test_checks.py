"""One small broken flow per check: each must be reported with its code, step and line, and only it."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowc.diagnostics import CompileError
from flowc.frontend import analyse, build_ir
from tests.frontend.helpers import expected_marks, write_flow

# name -> flow source; every diagnostic expected is marked on its line with `# expect: CODE STEP`.
CASES: dict[str, str] = {
    "syntax_error": """
        class F(FlowSpec):
            @step
            def start(self)  # expect: syntax-error -
                self.next(self.end)
        """,
    "no_flow": """
        class NotAFlow:  # no FlowSpec here
            pass
        x = 1  # the diagnostic points at line 1
        """,
    "missing_start": """
        class F(FlowSpec):  # expect: missing-start -
            @step
            def begin(self):
                self.next(self.end)

            @step
            def end(self):
                pass
        """,
    "missing_end": """
        class F(FlowSpec):  # expect: missing-end -
            @step
            def start(self):
                self.next(self.finish)

            @step
            def finish(self):  # expect: missing-next finish
                pass
        """,
    "unknown_successor": """
        class F(FlowSpec):
            @step
            def start(self):
                self.next(self.nowhere)  # expect: unknown-successor start

            @step
            def end(self):  # not also "unreachable": the misspelt name hides the edge meant
                pass
        """,
    "successor_is_plain_method": """
        class F(FlowSpec):
            @step
            def start(self):
                self.next(self.helper)  # expect: successor-not-step start

            def helper(self):
                self.next(self.end)

            @step
            def end(self):
                pass
        """,
    "missing_next": """
        class F(FlowSpec):
            @step
            def start(self):
                self.next(self.middle)

            @step
            def middle(self):  # expect: missing-next middle
                self.x = 1

            @step
            def end(self):
                pass
        """,
    "multiple_next": """
        class F(FlowSpec):
            flag = Parameter("flag", default=True)

            @step
            def start(self):
                if self.flag:
                    self.next(self.a)
                else:
                    self.next(self.end)  # expect: multiple-next start

            @step
            def a(self):
                self.next(self.end)

            @step
            def end(self):
                pass
        """,
    "next_not_last": """
        class F(FlowSpec):
            @step
            def start(self):
                self.next(self.end)  # expect: next-not-last start
                self.x = 1

            @step
            def end(self):
                pass
        """,
    "end_has_next": """
        class F(FlowSpec):
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                self.next(self.start)  # expect: end-has-next end
        """,
    "next_with_a_string": """
        class F(FlowSpec):
            @step
            def start(self):
                self.next("end")  # expect: bad-next start

            @step
            def end(self):
                pass
        """,
    "condition_without_cases": """
        class F(FlowSpec):
            @step
            def start(self):
                self.x = "a"
                self.next(self.end, condition="x")  # expect: bad-next start

            @step
            def end(self):
                pass
        """,
    "foreach_variable_not_literal": """
        NAME = "items"

        class F(FlowSpec):
            @step
            def start(self):
                self.items = [1]
                self.next(self.body, foreach=NAME)  # expect: bad-next start

            @step
            def body(self):
                self.next(self.join)

            @step
            def join(self, inputs):
                self.next(self.end)

            @step
            def end(self):
                pass
        """,
    "cycle": """
        class F(FlowSpec):
            @step
            def start(self):
                self.next(self.a)

            @step
            def a(self):
                self.next(self.b)

            @step
            def b(self):
                self.next(self.a)  # expect: cycle b

            @step
            def end(self):  # expect: unreachable-step end
                pass
        """,
    "split_without_join": """
        class F(FlowSpec):
            @step
            def start(self):  # expect: split-without-join start
                self.next(self.a, self.b)

            @step
            def a(self):
                self.next(self.end)

            @step
            def b(self):
                self.next(self.end)

            @step
            def end(self):
                pass
        """,
    "join_missing_inputs_after_split": """
        class F(FlowSpec):
            @step
            def start(self):
                self.next(self.a, self.b)

            @step
            def a(self):
                self.next(self.join)

            @step
            def b(self):
                self.next(self.join)

            @step
            def join(self):  # expect: join-missing-inputs join
                self.next(self.end)

            @step
            def end(self):
                pass
        """,
    "join_missing_inputs_after_foreach": """
        class F(FlowSpec):
            @step
            def start(self):
                self.items = [1, 2]
                self.next(self.body, foreach="items")

            @step
            def body(self):
                self.next(self.join)

            @step
            def join(self):  # expect: join-missing-inputs join
                self.next(self.end)

            @step
            def end(self):
                pass
        """,
    "foreach_without_join": """
        class F(FlowSpec):
            @step
            def start(self):  # expect: split-without-join start
                self.items = [1, 2]
                self.next(self.body, foreach="items")

            @step
            def body(self):
                self.next(self.end)

            @step
            def end(self):
                pass
        """,
    "both_joins_of_a_split_in_a_foreach_forgot_inputs": """
        class F(FlowSpec):
            @step
            def start(self):
                self.items = [1, 2]
                self.next(self.fan, foreach="items")

            @step
            def fan(self):
                self.next(self.a, self.b)

            @step
            def a(self):
                self.next(self.inner_join)

            @step
            def b(self):
                self.next(self.inner_join)

            @step
            def inner_join(self):  # expect: join-missing-inputs inner_join
                self.next(self.outer_join)

            @step
            def outer_join(self):  # expect: join-missing-inputs outer_join
                self.next(self.end)

            @step
            def end(self):
                pass
        """,
    "join_without_split": """
        class F(FlowSpec):
            @step
            def start(self):
                self.next(self.join)

            @step
            def join(self, inputs):  # expect: join-without-split join
                self.next(self.end)

            @step
            def end(self):
                pass
        """,
    "join_of_part_of_a_split": """
        class F(FlowSpec):
            @step
            def start(self):
                self.next(self.a, self.b, self.c)

            @step
            def a(self):
                self.next(self.join)

            @step
            def b(self):
                self.next(self.join)

            @step
            def c(self):
                self.next(self.join2)

            @step
            def join(self, inputs):  # expect: join-mismatch join
                self.next(self.join2)

            @step
            def join2(self, inputs):  # expect: join-mismatch join2
                self.next(self.end)

            @step
            def end(self):
                pass
        """,
    "switch_into_join_missing_a_branch": """
        class F(FlowSpec):
            @step
            def start(self):
                self.next(self.a, self.b)

            @step
            def a(self):
                self.mode = "x"
                self.next({"x": self.x, "y": self.y}, condition="mode")

            @step
            def x(self):
                self.next(self.join)

            @step
            def y(self):
                self.next(self.join)

            @step
            def b(self):
                self.next(self.other)

            @step
            def join(self, inputs):  # expect: join-mismatch join
                self.next(self.end)

            @step
            def other(self, inputs):  # expect: join-mismatch other
                self.next(self.end)

            @step
            def end(self):
                pass
        """,
    "loop_contains_foreach": """
        class F(FlowSpec):
            @step
            def start(self):
                self.n = 0
                self.next(self.fan)

            @step
            def fan(self):  # expect: loop-contains-split fan
                self.items = [1, 2]
                self.next(self.body, foreach="items")

            @step
            def body(self):
                self.next(self.join)

            @step
            def join(self, inputs):  # expect: loop-contains-split join
                self.n = inputs[0].n + 1
                self.state = "again" if self.n < 3 else "done"
                self.next({"again": self.fan, "done": self.end}, condition="state")

            @step
            def end(self):
                pass
        """,
    "catch_on_switch": """
        class F(FlowSpec):
            @step
            def start(self):
                self.next(self.decide)

            @catch(var="oops")  # expect: catch-on-switch decide
            @step
            def decide(self):
                self.way = "a"
                self.next({"a": self.end, "b": self.end}, condition="way")

            @step
            def end(self):
                pass
        """,
    "unreachable_step": """
        class F(FlowSpec):
            @step
            def start(self):
                self.next(self.end)

            @step
            def lost(self):  # expect: unreachable-step lost
                self.next(self.end)

            @step
            def end(self):
                pass
        """,
    "wrong_signature": """
        class F(FlowSpec):
            @step
            def start(self, inputs):  # expect: bad-signature start
                self.next(self.a)

            @step
            def a(self, x, y):  # expect: bad-signature a
                self.next(self.end)

            @step
            def end(self):
                pass
        """,
    "reserved_step_name": """
        class F(FlowSpec):
            @step
            def start(self):
                self.next(self.index)

            @step
            def index(self):  # expect: reserved-step-name index
                self.next(self.end)

            @step
            def end(self):
                pass
        """,
    "parameter_names": """
        class F(FlowSpec):
            alpha = Parameter("alpha", default=1)
            alpha2 = Parameter("alpha", default=2)  # expect: parameter-duplicate -
            tags = Parameter("tags", default="x")  # expect: parameter-reserved -
            name = Parameter("name", default="n")  # expect: parameter-shadowed -
            a = Parameter("a", default="n")  # expect: parameter-shadowed -

            @step
            def start(self):
                self.next(self.a)

            @step
            def a(self):
                self.next(self.end)

            @step
            def end(self):
                pass
        """,
    "parameter_named_like_a_step": """
        class F(FlowSpec):
            train_param = Parameter("train", default=1)
            name_param = Parameter("name", default="n")

            @step
            def start(self):
                self.next(self.train)

            @step
            def train(self):
                self.next(self.end)

            @step
            def end(self):
                pass
        """,
    "parameter_assigned": """
        class F(FlowSpec):
            size = Parameter("size", default=1)

            @step
            def start(self):
                self.size = 2  # expect: parameter-assigned start
                self.next(self.end)

            @step
            def end(self):
                pass
        """,
    "foreach_over_unassigned": """
        class F(FlowSpec):
            @step
            def start(self):
                self.next(self.body, foreach="items")  # expect: foreach-var-unassigned start

            @step
            def body(self):
                self.next(self.join)

            @step
            def join(self, inputs):
                self.next(self.end)

            @step
            def end(self):
                pass
        """,
    "reads": """
        class F(FlowSpec):
            @step
            def start(self):
                self.mode = "a"
                self.next({"a": self.a, "b": self.b}, condition="mode")

            @step
            def a(self):
                self.only_a = 1
                self.next(self.after)

            @step
            def b(self):
                self.next(self.after)

            @step
            def after(self):
                print(self.only_a)  # expect: read-maybe-unassigned after
                self.next(self.end)

            @step
            def end(self):
                print(self.typo)  # expect: read-unassigned end
        """,
    "join_reads_without_merge": """
        class F(FlowSpec):
            @step
            def start(self):
                self.base = 1
                self.next(self.a, self.b)

            @step
            def a(self):
                self.next(self.join)

            @step
            def b(self):
                self.next(self.join)

            @step
            def join(self, inputs):
                self.total = self.base  # expect: read-unassigned join
                self.next(self.end)

            @step
            def end(self):
                pass
        """,
    "switch_condition_never_assigned": """
        class F(FlowSpec):
            @step
            def start(self):
                self.next({"a": self.end, "b": self.end}, condition="mode")  # expect: read-unassigned start

            @step
            def end(self):
                pass
        """,
    "bad_decorators": """
        class F(FlowSpec):
            @step
            def start(self):
                self.next(self.a)

            @timeout  # expect: bad-decorator a
            @resources(memory="lots")  # expect: bad-decorator a
            @retry(times=-1)  # expect: bad-decorator a
            @step
            def a(self):
                self.next(self.end)

            @kubernetes(image="python:3.11", port=8080)  # expect: decorator-argument-ignored end
            @step
            def end(self):
                pass
        """,
    "bad_card_decorators": """
        class F(FlowSpec):
            @card(id="no spaces")  # expect: bad-decorator start
            @card(type="blank", timeout=0)  # expect: bad-decorator start
            @card(type="blank", colour="red")  # expect: decorator-argument-ignored start
            @card(options=[1])  # expect: bad-decorator start
            @card
            @card(type="blank", id="report", options={"title": "ok"}, timeout=5)
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
        """,
    "misplaced_and_duplicate_decorators": """
        @retry  # expect: misplaced-decorator -
        class F(FlowSpec):
            @step
            def start(self):
                self.next(self.end)

            @retry
            @retry(times=1)  # expect: duplicate-decorator end
            @schedule(hourly=True)  # expect: misplaced-decorator end
            @step
            def end(self):
                pass
        """,
    "bad_parameters": """
        class F(FlowSpec):
            a = Parameter("a", type=dict)  # expect: bad-parameter -
            b = Parameter("b", default="{not json", type=JSONType)  # expect: bad-parameter -
            c = Parameter("c", default="many", type=int)  # expect: bad-parameter -
            d = Parameter("d", default=0.5, type=int)  # expect: bad-parameter -
            e = Parameter("e", default="maybe", type=bool)  # expect: bad-parameter -
            f = Parameter("f", default=3, type=int, separator=",")  # expect: bad-parameter -
            f2 = Parameter("f2", default="a,b", separator=",")
            g = Parameter("g", default=1, nargs=2)  # expect: parameter-argument-ignored -
            h = Parameter("h", default=float("nan"))  # expect: bad-parameter -

            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
        """,
    "duplicate_step": """
        class F(FlowSpec):
            @step
            def start(self):
                self.next(self.end)

            @step
            def start(self):  # expect: duplicate-step start
                self.next(self.end)

            @step
            def end(self):
                pass
        """,
    "loop_head_reads_what_only_the_body_assigns": """
        class F(FlowSpec):
            @step
            def start(self):
                self.next(self.head)

            @step
            def head(self):
                print(self.last)  # expect: read-maybe-unassigned head
                self.next(self.body)

            @step
            def body(self):
                self.last = 1
                self.state = "done"
                self.next({"again": self.head, "done": self.end}, condition="state")

            @step
            def end(self):
                print(self.last)
        """,
    "merge_include_limits_what_a_join_sees": """
        class F(FlowSpec):
            @step
            def start(self):
                self.a = 1
                self.b = 2
                self.next(self.x, self.y)

            @step
            def x(self):
                self.next(self.join)

            @step
            def y(self):
                self.next(self.join)

            @step
            def join(self, inputs):
                self.merge_artifacts(inputs, include=["a"])
                print(self.a, self.b)  # expect: read-unassigned join
                self.next(self.end)

            @step
            def end(self):
                print(self.a)
        """,
    "clean_catch_constants_and_parameters": """
        class F(FlowSpec):
            LIMIT = 3
            size = Parameter("size", default=2)

            @catch(var="failure")
            @step
            def start(self):
                self.values = list(range(self.size * self.LIMIT))
                self.next(self.each, foreach="values")

            @step
            def each(self):
                self.double = self.input * 2
                self.next(self.join)

            @step
            def join(self, inputs):
                self.total = sum(i.double for i in inputs)
                self.merge_artifacts(inputs, exclude=["double"])
                self.next(self.end)

            @step
            def end(self):
                print(self.total, self.failure, self.values, self.size, self.LIMIT)
        """,
    "inherits_steps_helpers_constants_and_parameters_from_a_base_and_a_mixin": """
        class Base(FlowSpec):
            SHARED = {"a": 1}
            size = Parameter("size", default=2)

            def load(self):
                self.loaded = [1, 2]

            @step
            def end(self):
                print(self.loaded, self.SHARED, self.size, self.mixed, self.MIXIN_LIMIT)


        class Mixin:
            MIXIN_LIMIT = 5

            def mix(self):
                self.mixed = self.MIXIN_LIMIT


        class Child(Base, Mixin):
            @step
            def start(self):
                self.load()
                self.mix()
                self.next(self.end)


        if __name__ == "__main__":
            Child()
        """,
    "an_inherited_step_is_checked_too": """
        class Base(FlowSpec):
            @step
            def end(self):
                print(self.never_assigned)  # expect: read-unassigned end


        class Child(Base):
            @step
            def start(self):
                self.next(self.end)
        """,
    "helpers_assign_for_the_steps_that_call_them": """
        class F(FlowSpec):
            size = Parameter("size", default=2)

            def prepare(self):
                self.items = list(range(3))
                self.finish_preparing()

            def finish_preparing(self):
                self.ready = True

            @staticmethod
            def double(x):
                return 2 * x

            def bump(self):
                self.size = 3

            @step
            def start(self):
                self.prepare()
                print(self.ready, self.double(1))
                self.bump()  # expect: parameter-assigned start
                self.next(self.each, foreach="items")

            @step
            def each(self):
                self.next(self.join)

            @step
            def join(self, inputs):
                self.next(self.end)

            @step
            def end(self):
                pass
        """,
    "api_imported_under_other_names": """
        from flowc import FlowSpec as FS, Parameter as P, step as flowstep


        class F(FS):
            alpha = P("alpha", default=1)

            @retry
            @flowstep
            def start(self):
                print(self.alpha)
                self.next(self.end)

            @flowstep
            def end(self):
                print(self.nope)  # expect: read-unassigned end
        """,
    "class_attributes_in_every_form": """
        class F(FlowSpec):
            LOW, HIGH = 1, 10
            LIMITS: dict = {"a": 1}
            import os
            if os.sep == "/":
                SEPARATOR = "/"
            else:
                SEPARATOR = ":"

            class Settings:
                depth = 2

            @step
            def start(self):
                print(self.LOW, self.HIGH, self.LIMITS, self.os, self.SEPARATOR, self.Settings.depth)
                print(self.__class__.__name__, type(self).LOW, self.__doc__)
                self.next(self.end)

            @step
            def end(self):
                pass
        """,
    "guarded_and_deferred_reads": """
        class F(FlowSpec):
            @step
            def start(self):
                if hasattr(self, "previous"):
                    print(self.previous)
                self.count = getattr(self, "count_so_far", 0) + 1
                try:
                    cached = self.cache
                except AttributeError:
                    cached = None
                later = lambda: self.filled_later  # noqa: E731
                self.filled_later = cached
                never = lambda: self.never_set  # expect: read-maybe-unassigned start

                def helper():
                    return self.also_never_set  # expect: read-maybe-unassigned start

                print(getattr(self, "typo"))  # expect: read-unassigned start
                self.next(self.end)

            @step
            def end(self):
                pass
        """,
    "computed_attribute_names_make_reads_uncertain": """
        class F(FlowSpec):
            @step
            def start(self):
                for key, value in {"a": 1}.items():
                    setattr(self, key, value)
                self.next(self.end)

            @step
            def end(self):
                print(self.a)  # expect: read-maybe-unassigned end
        """,
    "merge_keeps_what_one_branch_of_a_split_assigns": """
        class F(FlowSpec):
            @step
            def start(self):
                self.next(self.a, self.b, self.c)

            @step
            def a(self):
                self.only_a = 1
                self.next(self.join)

            @step
            def b(self):
                self.next(self.join)

            @step
            def c(self):
                self.next(self.join)

            @step
            def join(self, inputs):
                self.merge_artifacts(inputs)
                print(self.only_a)
                self.next(self.end)

            @step
            def end(self):
                print(self.only_a)
        """,
    "merge_after_a_foreach_needs_every_body_path": """
        class F(FlowSpec):
            @step
            def start(self):
                self.items = [1, 2]
                self.next(self.body, foreach="items")

            @step
            def body(self):
                self.mode = "x"
                self.next({"x": self.x, "y": self.y}, condition="mode")

            @step
            def x(self):
                self.only_x = 1
                self.next(self.meet)

            @step
            def y(self):
                self.next(self.meet)

            @step
            def meet(self):
                self.next(self.join)

            @step
            def join(self, inputs):
                self.merge_artifacts(inputs)
                print(self.only_x)  # expect: read-maybe-unassigned join
                self.next(self.end)

            @step
            def end(self):
                pass
        """,
    "parameter_names_differing_only_in_case_or_dashes": """
        class F(FlowSpec):
            learning_rate = Parameter("learning-rate", default=0.1)
            rate = Parameter("learning_rate", default=0.2)  # expect: parameter-duplicate -
            Alpha = Parameter("Alpha", default=1)
            alpha = Parameter("alpha", default=2)  # expect: parameter-duplicate -

            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
        """,
    "a_nameless_parameter_does_not_shift_the_others": """
        class F(FlowSpec):
            broken = Parameter()  # expect: bad-parameter -
            tags = Parameter("tags", default="x")  # expect: parameter-reserved -
            fine = Parameter("fine", default="x")

            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
        """,
    "the_users_own_decorators_are_not_judged": """
        import functools

        LEVEL = 3


        def logged(level):
            def wrap(function):
                @functools.wraps(function)
                def inner(*args, **kwargs):
                    return function(*args, **kwargs)
                return inner
            return wrap


        class F(FlowSpec):
            @logged(level=LEVEL)
            @step
            def start(self):
                self.next(self.end)

            @logged(LEVEL)
            @card(type="blank")
            @step
            def end(self):
                pass
        """,
    "ambiguous_flow": """
        class A(FlowSpec):
            pass

        class B(FlowSpec):  # expect: ambiguous-flow -
            pass
        """,
    "exit_hooks": """
        from flowc import exit_hook

        def notify(run):
            pass

        @exit_hook(on_success=[notify, missing])  # expect: unknown-exit-hook -
        @exit_hook(on_error=[])  # expect: bad-decorator -
        class F(FlowSpec):
            @exit_hook(on_error=[notify])  # expect: misplaced-decorator start
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
        """,
    "triggers": """
        from flowc import trigger, trigger_on_finish

        @trigger(event="ready", parameters={"day": "at", "typo": "x"})  # expect: unknown-trigger-parameter -
        @trigger(event="a", events=["b"])  # expect: bad-decorator -
        @trigger_on_finish(flows=["Upstream", "not a flow"])  # expect: bad-decorator -
        @trigger_on_finish(flow={"name": "Other", "project": "p"})  # expect: bad-decorator -
        class F(FlowSpec):
            day = Parameter("day", default="today")

            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
        """,
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_check_reports_code_step_and_line(name: str, tmp_path: Path) -> None:
    path = write_flow(tmp_path, name, CASES[name])
    expected = expected_marks(path)
    if name == "no_flow":
        expected = {("no-flow", None, 1)}
    ir, diagnostics = analyse(path)
    found = {(d.code, d.step, d.line) for d in diagnostics}
    assert found == expected, "\n".join(d.format() for d in diagnostics)
    errors = [d for d in diagnostics if d.severity == "error"]
    assert (ir is None) == bool(errors)
    for diagnostic in diagnostics:
        assert diagnostic.file == path.name
        text = diagnostic.format()
        assert text.startswith(f"{path.name}:{diagnostic.line}:")
        assert text.endswith(f"[{diagnostic.code}]")
        if diagnostic.step:
            assert f"step '{diagnostic.step}':" in text


def test_build_ir_raises_with_every_error(tmp_path: Path) -> None:
    path = write_flow(tmp_path, "many", CASES["parameter_names"])
    with pytest.raises(CompileError) as caught:
        build_ir(path)
    codes = sorted(d.code for d in caught.value.diagnostics)
    assert codes == ["parameter-duplicate", "parameter-reserved", "parameter-shadowed", "parameter-shadowed"]
    assert str(caught.value).count("\n") == 3


def test_the_collector_is_left_as_it_was(tmp_path: Path) -> None:
    import gc

    path = write_flow(tmp_path, "clean", CASES["clean_catch_constants_and_parameters"])
    assert gc.isenabled()
    build_ir(path)
    assert gc.isenabled()
    gc.disable()
    try:
        build_ir(path)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_warnings_are_fatal_only_when_strict(tmp_path: Path) -> None:
    body = CASES["reads"].replace("print(self.typo)  # expect: read-unassigned end", "pass")
    path = write_flow(tmp_path, "warn", body)
    ir = build_ir(path)
    assert ir.step("after").reads == ("only_a",)
    with pytest.raises(CompileError) as caught:
        build_ir(path, strict=True)
    assert [d.code for d in caught.value.diagnostics] == ["read-maybe-unassigned"]
    assert caught.value.diagnostics[0].severity == "warning"


def test_a_misspelt_successor_suggests_the_step_meant(tmp_path: Path) -> None:
    body = CASES["unknown_successor"].replace("self.nowhere", "self.ned")
    _, diagnostics = analyse(write_flow(tmp_path, "typo", body))
    assert [(d.code, d.step) for d in diagnostics] == [("unknown-successor", "start")]
    assert (diagnostics[0].hint or "").startswith("did you mean 'end'?")
