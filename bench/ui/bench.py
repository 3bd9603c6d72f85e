"""``flowc ui`` benchmark: the pages of a 10,000-task run and a flow of 1,000 runs, over HTTP.

Builds a local datastore once (bench/.cache/ui-datastore, reused while this script is unchanged):

* a real ``flowc run`` of bench/ui/flows/wide_flow.py (a foreach of 3), whose records are then
  copied to make a run of 10,000 foreach tasks: each copy is a real task's ``task.json``,
  attempt record and log with its task id, index and times rewritten (re-encoded with the
  task runner's own record encoder), so the server reads exactly what the task runner writes;
* 1,000 runs of the same flow (each a copy of the real run's records under a new run id).

Then starts ``flowc ui --port 0`` (a real uvicorn server) and times, with plain HTTP GETs from
this process: the run's page, its JSON (graph and step counts), its timeline, the first page of
its tasks, and the flow's runs list. "cold" is the first request to a fresh server (nothing
cached: it lists the run's folder, reads what it needs, builds the graph in the sandbox); "warm"
the median of later ones. Three fresh servers give three cold figures each.

Usage: ``.venv/bin/python bench/ui/bench.py`` -> writes bench/results/ui.md.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FLOW_FILE = REPO / "bench" / "ui" / "flows" / "wide_flow.py"
CACHE = REPO / "bench" / ".cache" / "ui-datastore"
RESULTS = REPO / "bench" / "results" / "ui.md"
FLOW = "WideFlow"
TASKS, RUNS, REPEATS, SERVERS = 10_000, 1_000, 5, 3
#: Bump when build() changes: the cached datastore is rebuilt.
BUILD_VERSION = 1
BIG_RUN = "1700000000000"


def _run_flow(datastore: Path) -> str:
    id_file = datastore.parent / "run-id"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "flowc",
            "run",
            str(FLOW_FILE),
            "--datastore",
            str(datastore),
            "--run-id-file",
            str(id_file),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return id_file.read_text().strip()


def _copy_record(storage, source: str, target: str, changes: dict) -> None:
    from flowc.metadata import decode_json, encode_json

    record = decode_json(storage.read(source), source)
    record.update(changes)
    storage.write(target, encode_json(record))


def _stamp(base: datetime, seconds: float) -> str:
    return (base + timedelta(seconds=seconds)).isoformat(timespec="milliseconds")


def build(root: Path) -> None:
    """The datastore described in the module docstring."""
    from flowc.datastore import layout
    from flowc.datastore.storage import open_storage

    root.mkdir(parents=True)
    real = _run_flow(root / "ds")
    storage = open_storage(str(root / "ds"))
    base = datetime(2026, 12, 1, tzinfo=UTC)
    # The 10,000-task run: the real run's steps, its foreach step copied 10,000 times.
    for key in storage.list(layout.run_prefix(FLOW, real)):
        rest = key[len(layout.run_prefix(FLOW, real)) + 1 :]
        if not rest.startswith("work/"):
            storage.write(f"{layout.run_prefix(FLOW, BIG_RUN)}/{rest}", storage.read(key))
    _copy_record(storage, layout.run_key(FLOW, real), layout.run_key(FLOW, BIG_RUN), {"id": BIG_RUN})
    template = layout.task_prefix(FLOW, real, "work", "0")
    log = storage.read(f"{template}/attempt-0.stdout")
    for index in range(TASKS):
        task = str(index)
        start = 1 + index * 0.005
        _copy_record(
            storage,
            f"{template}/task.json",
            layout.task_key(FLOW, BIG_RUN, "work", task),
            {"run_id": BIG_RUN, "task_id": task, "index_path": [index]},
        )
        _copy_record(
            storage,
            f"{template}/attempt-0.json",
            layout.attempt_key(FLOW, BIG_RUN, "work", task, 0),
            {"start": _stamp(base, start), "end": _stamp(base, start + 0.2)},
        )
        storage.write(layout.log_key(FLOW, BIG_RUN, "work", task, 0, "stdout"), log)
    # 1,000 runs: copies of the real run under new ids, a minute apart.
    for number in range(RUNS):
        run_id = str(1600000000000 + number * 60_000)
        for key in storage.list(layout.run_prefix(FLOW, real)):
            rest = key[len(layout.run_prefix(FLOW, real)) + 1 :]
            target = f"{layout.run_prefix(FLOW, run_id)}/{rest}"
            if rest == "run.json":
                _copy_record(storage, key, target, {"id": run_id, "start": _stamp(base, -number * 60)})
            else:
                storage.write(target, storage.read(key))
    shutil.rmtree(root / "ds" / "runs" / FLOW / real)


class Server:
    def __init__(self, datastore: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flowc", "ui", "--datastore", str(datastore), "--port", "0"],
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        line = self.process.stdout.readline()
        self.url = line.split(" on ", 1)[1].split()[0].rstrip("/")

    def get(self, path: str) -> float:
        began = time.perf_counter()
        with urllib.request.urlopen(self.url + path, timeout=120) as answer:
            answer.read()
            assert answer.status == 200, path
        return time.perf_counter() - began

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=30)


def measure(datastore: Path) -> dict[str, dict[str, list[float]]]:
    run = f"/flows/{FLOW}/runs/{BIG_RUN}"
    targets = {
        "run page (HTML)": run,
        "run JSON: graph, step counts": "/api" + run,
        "timeline (1,000 of the foreach's 10,000 tasks, sampled)": "/api" + run + "/timeline",
        "first page of tasks (100)": "/api" + run + "/tasks?limit=100",
        f"runs list of a {RUNS:,}-run flow (first page of 50)": f"/api/flows/{FLOW}/runs",
    }
    figures: dict[str, dict[str, list[float]]] = {name: {"cold": [], "warm": []} for name in targets}
    for _ in range(SERVERS):
        for name, path in targets.items():  # each target cold on its own fresh server
            server = Server(datastore)
            try:
                figures[name]["cold"].append(server.get(path))
                figures[name]["warm"] += [server.get(path) for _ in range(REPEATS)]
            finally:
                server.stop()
    return figures


def main() -> None:
    digest = hashlib.sha256(f"{BUILD_VERSION}".encode() + FLOW_FILE.read_bytes()).hexdigest()[:12]
    root = CACHE / digest
    if not root.exists():
        shutil.rmtree(CACHE, ignore_errors=True)
        print(f"building the datastore in {root} ...", flush=True)
        build(root)
    load = os.getloadavg()[0]
    figures = measure(root / "ds")
    load_end = os.getloadavg()[0]
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    rows = []
    for name, values in figures.items():
        cold, warm = max(values["cold"]), statistics.median(values["warm"])
        met = "yes" if cold < 1 and warm < 1 else "NO"
        rows.append(
            f"| {name} | {cold * 1000:.0f} ms | {statistics.median(values['cold']) * 1000:.0f} ms "
            f"| {warm * 1000:.0f} ms | {met} |"
        )
    text = (
        f"""# UI benchmark

Written by `.venv/bin/python bench/ui/bench.py` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC;
{machine}; 1-minute load average {load:.1f} at the start, {load_end:.1f} at the end (the machine is
shared).

A local datastore holding a run of {TASKS:,} foreach tasks (plus start, join, end) and a flow of
{RUNS:,} runs, made from a real `flowc run`'s records (see the script). A real `flowc ui` server
(uvicorn) answers plain HTTP GETs from the benchmark process. "cold": the first request to a fresh
server ({SERVERS} fresh servers per row; worst and median shown), nothing cached; "warm": the median
of {REPEATS} later requests per server. Target: each under 1 s.

| request | cold, worst | cold, median | warm, median | under 1 s? |
|---|---:|---:|---:|---|
"""
        + "\n".join(rows)
        + "\n"
    )
    RESULTS.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
