#!/usr/bin/env bash
# Every benchmark, flowc beside Metaflow (from PyPI, in bench/.venvs/metaflow, created if missing),
# then bench/RESULTS.md. Run it on a quiet machine: the figures are wall times.
# Usage: bash bench/run_all.sh [--quick]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup
quick=()
[ "${1:-}" = "--quick" ] && quick=(--quick)
py=.venv/bin/python
$py bench/frontend/run.py --steps 1000 --repeats 9
bash bench/runtime/run.sh --metaflow-width 1000
$py bench/runtime/faults.py
$py bench/datastore/bench.py "${quick[@]}"
$py -m bench.s3.bench_s3
$py bench/argo/bench.py
$py bench/sfn/bench.py
$py bench/compile_checks/bench.py
$py bench/airflow/bench.py
$py bench/ui/bench.py
$py bench/environments/bench.py
$py bench/package/size.py
$py bench/assemble.py
echo "wrote bench/RESULTS.md"
