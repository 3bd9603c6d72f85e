"""Front-end benchmark: flowc's front end beside Metaflow's own graph parsing on a 1,000-step flow.

    .venv/bin/python bench/frontend/run.py [--steps 1000] [--repeats 5]

Installs Metaflow from PyPI into bench/.venvs/metaflow on first use, generates the flows into
bench/.work/frontend/, and writes the figures to bench/results/frontend.md. flowc's figure is the
whole front end (parse, every check including the data-flow check, IR); Metaflow's are
``metaflow.graph.FlowGraph(cls)`` and its linter (``metaflow.lint.linter.run_checks``), the checks
``metaflow run`` does before anything runs.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
VENV = ROOT / "bench" / ".venvs" / "metaflow"
WORK = ROOT / "bench" / ".work" / "frontend"
RESULTS = ROOT / "bench" / "results" / "frontend.md"
SHAPES = (("one path: linear steps and foreach blocks", 0), ("3 static splits (8 paths)", 3))

sys.path.insert(0, str(HERE))
from generate import flow_source  # noqa: E402


def metaflow_python() -> Path:
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "metaflow"], check=True)
    return python


def time_flowc(path: Path, repeats: int) -> dict[str, float]:
    from flowc.frontend import build_ir

    build_ir(path)  # first call pays for importing the front end's modules
    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        ir = build_ir(path)
        runs.append(time.perf_counter() - started)
    assert len(ir.steps) > 0
    cold = subprocess.run(
        [sys.executable, "-c",
         "import sys, time; t = time.perf_counter(); from flowc.frontend import build_ir; "
         "build_ir(sys.argv[1]); print(time.perf_counter() - t)", str(path)],
        check=True, capture_output=True, text=True, cwd=ROOT,
    )
    return {"median_s": statistics.median(runs), "min_s": min(runs), "cold_s": float(cold.stdout)}


def time_metaflow(python: Path, path: Path, repeats: int) -> dict[str, object]:
    out = subprocess.run(
        [str(python), str(HERE / "metaflow_side.py"), str(path), str(repeats)],
        check=True, capture_output=True, text=True, cwd=path.parent,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def growth(repeats: int) -> list[tuple[int, float]]:
    """Warm build_ir time of a one-split flow at 250 and 1,000 steps: 4x the steps should take about
    4x the time (a quadratic pass would show as 16x). Was a timed test assertion (ratio < 9)."""
    from flowc.frontend import build_ir

    WORK.mkdir(parents=True, exist_ok=True)
    out = []
    for steps in (250, 1000):
        path = WORK / f"growth_{steps}_flow.py"
        path.write_text(flow_source(steps, "flowc", 1), encoding="utf-8")
        build_ir(path)
        runs = []
        for _ in range(repeats):
            started = time.perf_counter()
            build_ir(path)
            runs.append(time.perf_counter() - started)
        out.append((steps, min(runs)))
    return out


def typical_flows(repeats: int) -> list[tuple[str, float]]:
    from flowc.frontend import build_ir

    flows = sorted((ROOT / "examples").glob("*.py")) + sorted((ROOT / "tests/conformance/flows").glob("*.py"))
    out = []
    for flow in flows:
        build_ir(flow)
        runs = []
        for _ in range(repeats):
            started = time.perf_counter()
            build_ir(flow)
            runs.append(time.perf_counter() - started)
        out.append((flow.name, statistics.median(runs)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    python = metaflow_python()
    WORK.mkdir(parents=True, exist_ok=True)
    rows = []
    version = "?"
    for label, splits in SHAPES:
        flowc_file = WORK / f"big_{splits}_flowc_flow.py"
        metaflow_file = WORK / f"big_{splits}_metaflow_flow.py"
        flowc_file.write_text(flow_source(args.steps, "flowc", splits), encoding="utf-8")
        metaflow_file.write_text(flow_source(args.steps, "metaflow", splits), encoding="utf-8")
        ours = time_flowc(flowc_file, args.repeats)
        theirs = time_metaflow(python, metaflow_file, max(1, args.repeats // 2))
        version = str(theirs["metaflow_version"])
        graph = statistics.median(theirs["graph_s"])
        lint = statistics.median(theirs["lint_s"])
        rows.append((label, ours, theirs, graph, lint))
        print(f"{label}: flowc {ours['median_s'] * 1000:.0f} ms; metaflow graph {graph * 1000:.0f} ms, "
              f"lint {lint * 1000:.0f} ms", flush=True)
    typical = typical_flows(args.repeats * 4)
    (small_steps, small), (big_steps, big) = growth(max(3, args.repeats))
    lines = [
        "# Front-end benchmark",
        "",
        f"Generated by `bench/frontend/run.py --steps {args.steps} --repeats {args.repeats}` on "
        f"{platform.machine()}, Python {platform.python_version()}, Metaflow {version} (PyPI), "
        f"{time.strftime('%Y-%m-%d', time.gmtime())}. The machine is shared: figures are medians.",
        "",
        f"## A generated {args.steps}-step flow",
        "",
        "| shape | flowc front end (parse + all checks + IR) | flowc, fresh process | "
        "Metaflow `FlowGraph(cls)` | Metaflow linter | Metaflow graph + linter |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, ours, _theirs, graph, lint in rows:
        lines.append(
            f"| {label} | {ours['median_s'] * 1000:.0f} ms | {ours['cold_s'] * 1000:.0f} ms | "
            f"{graph * 1000:.0f} ms | {lint * 1000:.0f} ms | {(graph + lint) * 1000:.0f} ms |"
        )
    lines += [
        "",
        "Metaflow needs `sys.setrecursionlimit` raised to parse a 1,000-step flow at all: its graph",
        "traversal recurses once per step (with the default limit, defining the class raises",
        "`RecursionError`). Its graph traversal and, above all, its linter walk every path from start",
        "separately, so each static split multiplies their work (once, with 10 static splits = 1,024",
        "paths, we measured `FlowGraph` at 12.7 s and the linter at 418 s). flowc matches splits and",
        "joins in one topological pass and answers the data-flow check with short backward searches,",
        "so its time grows with the number of steps only. flowc's figure includes checks Metaflow does",
        "not do (the data-flow check).",
        "",
        "## Growth with flow size (build_ir, warm, fastest of the repeats)",
        "",
        f"{small_steps} steps: {small * 1000:.0f} ms; {big_steps} steps: {big * 1000:.0f} ms; ratio "
        f"{big / small:.1f} for {big_steps / small_steps:.0f}x the steps (linear: about "
        f"{big_steps / small_steps:.0f}; quadratic: {(big_steps / small_steps) ** 2:.0f}).",
        "",
        "## Typical flows (build_ir, warm)",
        "",
        "| flow | build_ir |",
        "|---|---:|",
    ]
    lines += [f"| {name} | {seconds * 1000:.2f} ms |" for name, seconds in typical]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
