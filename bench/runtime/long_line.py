"""A task printing one long line with no newline until its end (issue 19 item 8): wall time and the
runtime's peak RSS of ``flowc run`` for each size given, its console sent to /dev/null.

    .venv/bin/python bench/runtime/long_line.py [--mb 25 100] [--python PY] [--pythonpath DIR]

``--pythonpath`` runs another checkout's flowc (e.g. an older commit unpacked with ``git archive``)
for the figure before a change. Prints a Markdown table; bench/results/long_line.md keeps the last.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FLOW = ROOT / "tests" / "runtime" / "flows" / "long_line_flow.py"


def _peak_rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def measure(python: str, pythonpath: str, megabytes: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as scratch:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWC_")}
        env.update(PYTHONPATH=pythonpath, LONG_LINE_BYTES=str(megabytes << 20))
        command = [python, "-m", "flowc", "run", str(FLOW), "--datastore", f"{scratch}/ds"]
        started = time.monotonic()
        with open(os.devnull, "w") as null:
            # cwd: not a checkout, whose flowc `python -m` would import before PYTHONPATH's.
            process = subprocess.Popen(command, env=env, stdout=null, stderr=subprocess.PIPE, cwd=scratch)
            peak = 0.0
            while process.poll() is None:
                peak = max(peak, _peak_rss_mb(process.pid))
                time.sleep(0.05)
        seconds = time.monotonic() - started
        if process.returncode != 0:
            raise SystemExit(f"flowc run failed: {process.stderr.read().decode()[-2000:]}")
        return seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=int, nargs="+", default=[25, 100])
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--pythonpath", default=str(ROOT))
    args = parser.parse_args()
    print("| line | wall s | runtime peak RSS MB |\n|---|---|---|")
    for megabytes in args.mb:
        seconds, peak = measure(args.python, args.pythonpath, megabytes)
        print(f"| {megabytes} MB | {seconds:.1f} | {peak:.0f} |", flush=True)


if __name__ == "__main__":
    main()
