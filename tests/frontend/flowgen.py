"""Random well-formed flows for property tests: a tree of blocks rendered as a flow file.

Blocks: a linear step, a static split (2-3 branches) with its join, a foreach with its join, a switch
whose cases meet again in a plain step, and a loop (a switch jumping back over plain steps only).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import strategies as st

HEADER = "from flowc import FlowSpec, Parameter, step\n\n\n"


@dataclass
class StepModel:
    name: str
    body: list[str]
    next_line: str | None
    takes_inputs: bool = False
    kind: str = "linear"  # linear, split, foreach, switch, join, end (what the generator meant)


@dataclass
class FlowModel:
    steps: list[StepModel] = field(default_factory=list)
    parameters: list[str] = field(default_factory=list)
    counter: int = 0

    def new_name(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def add(self, step: StepModel) -> StepModel:
        self.steps.append(step)
        return step

    def render(self, inherited: int = 0) -> str:
        """The flow file; with ``inherited``, the first that many steps live in a base flow class."""
        lines = [HEADER]
        if inherited:
            lines.append("class BaseFlow(FlowSpec):\n")
            lines.extend(self._render_steps(self.steps[:inherited]))
            lines.append("\n\nclass GeneratedFlow(BaseFlow):\n")
        else:
            lines.append("class GeneratedFlow(FlowSpec):\n")
        lines.extend(f"    {p}\n" for p in self.parameters)
        lines.extend(self._render_steps(self.steps[inherited:]) or ["    pass\n"])
        return "".join(lines)

    @staticmethod
    def _render_steps(steps: list[StepModel]) -> list[str]:
        lines = []
        for step in steps:
            args = "self, inputs" if step.takes_inputs else "self"
            lines.append(f"\n    @step\n    def {step.name}({args}):\n")
            body = [*step.body, *([step.next_line] if step.next_line else [])] or ["pass"]
            lines.extend(f"        {line}\n" for line in body)
        return lines


# A block is a tuple: ("linear",), ("split", [seq, ...]), ("foreach", seq), ("switch", [seq, ...]),
# ("loop", n_plain_steps); a seq is a list of blocks.
def blocks(depth: int) -> st.SearchStrategy:
    leaf = st.one_of(st.just(("linear",)), st.builds(lambda n: ("loop", n), st.integers(0, 2)))
    if depth <= 0:
        return leaf
    inner = st.lists(blocks(depth - 1), min_size=1, max_size=2)
    return st.one_of(
        leaf,
        st.builds(lambda seqs: ("split", seqs), st.lists(inner, min_size=2, max_size=3)),
        st.builds(lambda seq: ("foreach", seq), inner),
        st.builds(lambda seqs: ("switch", seqs), st.lists(inner, min_size=2, max_size=3)),
    )


def sequences(depth: int = 2) -> st.SearchStrategy:
    return st.lists(blocks(depth), min_size=1, max_size=4)


def _render_seq(model: FlowModel, seq: list, cont: str) -> str:
    for block in reversed(seq):
        cont = _render_block(model, block, cont)
    return cont


def _render_block(model: FlowModel, block: tuple, cont: str) -> str:
    kind = block[0]
    if kind == "linear":
        name = model.new_name("s")
        model.add(StepModel(name, [f"self.{name}_value = 1"], f"self.next(self.{cont})"))
        return name
    if kind == "split":
        split, join = model.new_name("split"), model.new_name("join")
        model.add(StepModel(join, [f"self.{join}_n = len(list(inputs))"], f"self.next(self.{cont})",
                            takes_inputs=True, kind="join"))
        entries = [_render_seq(model, seq, join) for seq in block[1]]
        targets = ", ".join(f"self.{e}" for e in entries)
        model.add(StepModel(split, [], f"self.next({targets})", kind="split"))
        return split
    if kind == "foreach":
        fan, join = model.new_name("fan"), model.new_name("join")
        model.add(StepModel(join, [f"self.{join}_n = len(list(inputs))"], f"self.next(self.{cont})",
                            takes_inputs=True, kind="join"))
        entry = _render_seq(model, block[1], join)
        model.add(StepModel(fan, [f"self.{fan}_items = [1, 2]"],
                            f'self.next(self.{entry}, foreach="{fan}_items")', kind="foreach"))
        return fan
    if kind == "switch":
        switch, meet = model.new_name("switch"), model.new_name("meet")
        model.add(StepModel(meet, [], f"self.next(self.{cont})"))
        entries = [_render_seq(model, seq, meet) for seq in block[1]]
        cases = ", ".join(f'"k{i}": self.{e}' for i, e in enumerate(entries))
        model.add(StepModel(switch, [f'self.{switch}_case = "k0"'],
                            f'self.next({{{cases}}}, condition="{switch}_case")', kind="switch"))
        return switch
    if kind == "loop":
        head, back = model.new_name("head"), model.new_name("back")
        cases = f'{{"again": self.{head}, "done": self.{cont}}}'
        model.add(StepModel(back, [f'self.{back}_state = "done"'],
                            f'self.next({cases}, condition="{back}_state")', kind="switch"))
        entry = back
        for _ in range(block[1]):
            plain = model.new_name("s")
            model.add(StepModel(plain, [], f"self.next(self.{entry})"))
            entry = plain
        model.add(StepModel(head, [], f"self.next(self.{entry})"))
        return head
    raise AssertionError(kind)


def build_model(seq: list) -> FlowModel:
    """A flow model of ``seq`` between start and end (steps listed start first, end last)."""
    model = FlowModel()
    model.add(StepModel("end", [], None, kind="end"))
    first = _render_seq(model, seq, "end")
    model.add(StepModel("start", [], f"self.next(self.{first})"))
    # Source order: start first, then the order the blocks were built in reverse, end last.
    end, *middle, start = model.steps
    model.steps = [start, *reversed(middle), end]
    return model
