"""A run's graph as SVG, laid out here (no chart library): steps in layers, edges between them.

Layout: a step's layer is its longest distance from ``start`` along forward edges (a switch's
loop-back targets, ``loop_targets`` in the IR, are drawn but do not count), so every edge but a
loop goes down; within a layer, steps keep the order in which a walk from ``start`` meets them.
Each box is coloured by its step's status and shows its task counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

__all__ = ["GraphStep", "render_svg", "step_order"]

BOX_W, BOX_H, GAP_X, GAP_Y, MARGIN = 170, 46, 36, 44, 12


@dataclass(frozen=True)
class GraphStep:
    """One step to draw: its successors, the ones that loop back, and its kind (``foreach`` ...)."""

    name: str
    successors: tuple[str, ...] = ()
    loop_targets: tuple[str, ...] = ()
    transition: str = "linear"


def _layers(steps: Sequence[GraphStep]) -> list[list[str]]:
    by_name = {s.name: s for s in steps}
    order: list[str] = []
    seen: set[str] = set()
    queue = ["start"] if "start" in by_name else [steps[0].name] if steps else []
    while queue:  # breadth-first walk: the order within a layer
        name = queue.pop(0)
        if name in seen or name not in by_name:
            continue
        seen.add(name)
        order.append(name)
        queue.extend(by_name[name].successors)
    order += [s.name for s in steps if s.name not in seen]  # unreachable: drawn last
    depth = dict.fromkeys(order, 0)
    for _ in range(len(order)):  # longest path by relaxation (the forward graph is acyclic)
        changed = False
        for name in order:
            step = by_name[name]
            for target in step.successors:
                if target in depth and target not in step.loop_targets and depth[target] < depth[name] + 1:
                    depth[target] = depth[name] + 1
                    changed = True
        if not changed:
            break
    layers: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for name in order:
        layers[depth[name]].append(name)
    return layers


def step_order(steps: Sequence[GraphStep]) -> list[str]:
    """The steps top to bottom, left to right, as :func:`render_svg` draws them."""
    return [name for layer in _layers(steps) for name in layer]


def render_svg(steps: Sequence[GraphStep], info: Mapping[str, Mapping[str, object]]) -> str:
    """The SVG of ``steps``; ``info[step]`` gives ``status`` and ``counts`` (status -> number)."""
    layers = _layers(steps)
    width = max((len(layer) for layer in layers), default=1)
    total_w = MARGIN * 2 + width * BOX_W + (width - 1) * GAP_X
    total_h = MARGIN * 2 + len(layers) * BOX_H + max(len(layers) - 1, 0) * GAP_Y
    place: dict[str, tuple[float, float]] = {}
    for row, layer in enumerate(layers):
        row_w = len(layer) * BOX_W + (len(layer) - 1) * GAP_X
        left = (total_w - row_w) / 2
        for column, name in enumerate(layer):
            place[name] = (left + column * (BOX_W + GAP_X), MARGIN + row * (BOX_H + GAP_Y))
    edges, boxes = [], []
    for step in steps:
        if step.name not in place:
            continue
        x, y = place[step.name]
        for target in step.successors:
            if target not in place:
                continue
            tx, ty = place[target]
            if target in step.loop_targets or ty <= y:  # a loop: around the right-hand side
                side = max(x, tx) + BOX_W + 18
                path = (
                    f"M{x + BOX_W:.0f},{y + BOX_H / 2:.0f} H{side:.0f} V{ty + BOX_H / 2:.0f} "
                    f"H{tx + BOX_W:.0f}"
                )
                edges.append(f'<path class="edge loop" d="{path}" marker-end="url(#arrow)"/>')
                continue
            x1, y1, x2, y2 = x + BOX_W / 2, y + BOX_H, tx + BOX_W / 2, ty
            middle = (y1 + y2) / 2
            edges.append(
                f'<path class="edge" d="M{x1:.0f},{y1:.0f} C{x1:.0f},{middle:.0f} {x2:.0f},{middle:.0f} '
                f'{x2:.0f},{y2:.0f}" marker-end="url(#arrow)"/>'
            )
        facts = info.get(step.name, {})
        status = str(facts.get("status") or "not-started")
        counts = facts.get("counts") or {}
        total = sum(int(n) for n in counts.values())  # type: ignore[union-attr]
        done = int(counts.get("successful", 0))  # type: ignore[union-attr]
        label = f"{done}/{total} task{'s' if total != 1 else ''}"
        failed = int(counts.get("failed", 0))  # type: ignore[union-attr]
        if failed:
            label += f", {failed} failed"
        kind = " (foreach)" if step.transition == "foreach" else ""
        name = escape(step.name)
        boxes.append(
            f'<g class="step {escape(status)}" data-step="{name}" transform="translate({x:.0f},{y:.0f})">'
            f"<title>{name}: {escape(status)}{escape(kind)}</title>"
            f'<a href="#tasks" data-step-link="{name}">'
            f'<rect width="{BOX_W}" height="{BOX_H}" rx="6"/>'
            f'<text x="{BOX_W / 2:.0f}" y="19" class="name">{name}{escape(kind)}</text>'
            f'<text x="{BOX_W / 2:.0f}" y="36" class="counts">{escape(label)}</text></a></g>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="graph" width="{total_w + 40:.0f}" '
        f'height="{total_h:.0f}" viewBox="0 0 {total_w + 40:.0f} {total_h:.0f}">'
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker></defs>'
        + "".join(edges)
        + "".join(boxes)
        + "</svg>"
    )
