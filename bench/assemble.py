"""Writes bench/RESULTS.md: the summary table below, then every report in bench/results/ in full.

Usage: .venv/bin/python bench/assemble.py   (bench/run_all.sh runs it after the benchmarks)

The summary is kept by hand from the reports (each report says when and how it was measured);
the reports themselves are copied unchanged, so RESULTS.md never disagrees with them.
"""

from __future__ import annotations

from pathlib import Path

BENCH = Path(__file__).resolve().parent
ORDER = [
    "frontend", "runtime", "faults", "datastore", "s3",
    "argo", "sfn", "compile_checks", "airflow", "ui", "environments", "package",
]  # fmt: skip
SUMMARY = BENCH / "summary.md"


def main() -> None:
    parts = [SUMMARY.read_text(encoding="utf-8").rstrip() + "\n"]
    for name in ORDER:
        report = BENCH / "results" / f"{name}.md"
        text = report.read_text(encoding="utf-8").rstrip()
        # Each report's title becomes a second-level heading of RESULTS.md.
        text = "\n".join("#" + line if line.startswith("#") else line for line in text.splitlines())
        parts.append(f"{text}\n\n(from `bench/results/{name}.md`)\n")
    (BENCH / "RESULTS.md").write_text("\n".join(parts), encoding="utf-8")


if __name__ == "__main__":
    main()
