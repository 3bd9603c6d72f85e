"""Writes a flow of about N steps for the front-end benchmark, importing from flowc or metaflow.

Shape: chains of linear steps, a foreach block every 20 steps, and ``static_splits`` static splits
(two branches each) spread evenly. Each static split doubles the paths from start to end, which
Metaflow's graph traversal and linter walk one by one, so the benchmark keeps their number small.
"""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["flow_source"]


def flow_source(steps: int, package: str, static_splits: int = 0) -> str:
    """Source of a flow with ``steps`` steps; ``package`` is ``flowc`` or ``metaflow``."""
    lines = [
        f"from {package} import FlowSpec, Parameter, step\n\n\n",
        "class BigFlow(FlowSpec):\n",
        '    width = Parameter("width", default=3, type=int)\n',
    ]
    body: list[tuple[str, list[str], str]] = []  # (signature, statements, next call)
    counter = 0

    def name(prefix: str) -> str:
        nonlocal counter
        counter += 1
        return f"{prefix}_{counter}"

    spacing = steps // (static_splits + 1) if static_splits else 0
    splits_at = {spacing * (i + 1) for i in range(static_splits)}
    previous_assign = "start_value"
    body.append(("start(self)", ["self.start_value = 0"], ""))
    while len(body) < steps - 1:
        position = len(body)
        room = steps - 1 - position
        if splits_at and min(splits_at) <= position and room >= 4:
            splits_at.discard(min(splits_at))
            split, left, right, join = name("split"), name("left"), name("right"), name("join")
            body.append((f"{split}(self)", [], f"self.next(self.{left}, self.{right})"))
            to_join = f"self.next(self.{join})"
            body.append((f"{left}(self)", [f"self.side = self.{previous_assign} + 1"], to_join))
            body.append((f"{right}(self)", [f"self.side = self.{previous_assign} + 2"], to_join))
            body.append((f"{join}(self, inputs)", [f"self.{join}_value = sum(i.side for i in inputs)"], ""))
            previous_assign = f"{join}_value"
        elif position % 20 == 10 and room >= 3:
            fan, work, join = name("fan"), name("work"), name("join")
            body.append((f"{fan}(self)", [f"self.{fan}_items = list(range(self.width))"],
                         f'self.next(self.{work}, foreach="{fan}_items")'))
            body.append((f"{work}(self)", ["self.item = self.input * 2"], f"self.next(self.{join})"))
            body.append((f"{join}(self, inputs)", [f"self.{join}_value = [i.item for i in inputs]"], ""))
            previous_assign = f"{join}_value"
        else:
            linear = name("linear")
            body.append((f"{linear}(self)", [f"self.{linear}_value = self.{previous_assign}"], ""))
            previous_assign = f"{linear}_value"
    body.append(("end(self)", [f"print(self.{previous_assign})"], ""))
    # Fill in the linear transitions: each step without one goes to the next step in the list.
    for index, (signature, statements, transition) in enumerate(body):
        if not transition and index + 1 < len(body):
            following = body[index + 1][0].split("(")[0]
            # Branches are written right after their split: a step after a branch's join target
            # is reached through the join, so a plain step always goes to the next one in the list.
            transition = f"self.next(self.{following})"
        lines.append(f"\n    @step\n    def {signature}:\n")
        lines.extend(f"        {s}\n" for s in statements or ["pass"])
        if transition:
            lines.append(f"        {transition}\n")
    lines.append('\n\nif __name__ == "__main__":\n    BigFlow()\n')
    return "".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--package", choices=("flowc", "metaflow"), default="flowc")
    parser.add_argument("--static-splits", type=int, default=0)
    parser.add_argument("output", type=Path)
    args = parser.parse_args()
    source = flow_source(args.steps, args.package, static_splits=args.static_splits)
    args.output.write_text(source, encoding="utf-8")


if __name__ == "__main__":
    main()
