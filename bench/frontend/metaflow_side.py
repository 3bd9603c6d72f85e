"""Runs inside bench/.venvs/metaflow: times Metaflow's own graph parsing of one flow file.

Prints one JSON object: seconds to import the module (Metaflow builds the graph when the class is
created), to build ``metaflow.graph.FlowGraph`` on the class (each repeat), and to run its linter.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time


def main() -> None:
    path, repeats = sys.argv[1], int(sys.argv[2])
    # Metaflow's graph traversal recurses once per step along each path: a 1,000-step flow needs
    # more than Python's default limit of 1,000 frames.
    sys.setrecursionlimit(100_000)
    result: dict[str, object] = {}
    started = time.perf_counter()
    spec = importlib.util.spec_from_file_location("bench_flow", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result["import_s"] = time.perf_counter() - started

    import metaflow
    from metaflow.graph import FlowGraph
    from metaflow.lint import linter

    result["metaflow_version"] = metaflow.__version__
    cls = module.BigFlow
    graphs = []
    for _ in range(repeats):
        started = time.perf_counter()
        graph = FlowGraph(cls)
        graphs.append(time.perf_counter() - started)
    result["graph_s"] = graphs
    lints = []
    for _ in range(repeats):
        started = time.perf_counter()
        try:
            linter.run_checks(graph)
            result["lint_error"] = None
        except Exception as exc:  # a lint failure is a result too
            result["lint_error"] = f"{type(exc).__name__}: {exc}"[:300]
        lints.append(time.perf_counter() - started)
    result["lint_s"] = lints
    result["steps"] = len(list(graph))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
