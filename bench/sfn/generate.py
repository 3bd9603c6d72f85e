"""Generated flows for the Step Functions benchmark (the shapes the other targets' benchmarks use).

A flow of exactly ``steps`` steps: linear runs, with ``blocks`` a foreach every 20 steps and a
static split every 100, each step with ``@retry`` and ``@resources`` (what a real flow carries).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["flow_source", "write_flow"]


def flow_source(steps: int, package: str, blocks: bool) -> str:
    """The flow's source, importing ``FlowSpec``, ``step``, ``retry``, ``resources`` from ``package``."""
    body: list[tuple[str, str]] = []  # (signature, explicit transition or "")
    index = 0
    while len(body) < steps - 1:
        room, position = steps - 1 - len(body), len(body)
        if blocks and position % 100 == 50 and room >= 5:
            s, a, b, j = f"split_{index}", f"left_{index}", f"right_{index}", f"join_{index}"
            body += [
                (f"{s}(self)", f"self.next(self.{a}, self.{b})"),
                (f"{a}(self)", f"self.next(self.{j})"),
            ]
            body += [(f"{b}(self)", f"self.next(self.{j})"), (f"{j}(self, inputs)", "")]
        elif blocks and position % 20 == 10 and room >= 4:
            f, w, j = f"fan_{index}", f"work_{index}", f"gather_{index}"
            body += [
                (f"{f}(self)", f"self.next(self.{w}, foreach='items')"),
                (f"{w}(self)", f"self.next(self.{j})"),
            ]
            body += [(f"{j}(self, inputs)", "")]
        else:
            body.append((f"step_{index}(self)" if body else "start(self)", ""))
        index += 1
    body.append(("end(self)", ""))
    lines = [f"from {package} import FlowSpec, resources, retry, step\n\n\nclass BenchFlow(FlowSpec):\n"]
    for position, (signature, transition) in enumerate(body):
        following = body[position + 1][0].split("(")[0] if position + 1 < len(body) else None
        if not transition and following:
            transition = f"self.next(self.{following})"
        statement = "self.items = [1, 2, 3]" if signature.startswith("fan_") else "pass"
        lines.append("\n    @retry(times=2)\n    @resources(cpu=1, memory=2048)")
        lines.append(f"\n    @step\n    def {signature}:\n        {statement}\n")
        if transition:
            lines.append(f"        {transition}\n")
    lines.append('\n\nif __name__ == "__main__":\n    BenchFlow()\n')
    return "".join(lines)


def write_flow(path: Path, steps: int, package: str = "flowc", blocks: bool = True) -> Path:
    """Writes :func:`flow_source` to ``path``; returns ``path``."""
    path.write_text(flow_source(steps, package, blocks), encoding="utf-8")
    return path
