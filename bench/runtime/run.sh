#!/usr/bin/env bash
# Runtime benchmarks, flowc beside Metaflow's local runtime (Metaflow from PyPI in its own venv).
# Usage: bash bench/runtime/run.sh [--quick]   (writes bench/results/runtime.md)
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ ! -x bench/.venvs/metaflow/bin/python ]; then   # shared with other benchmarks: create only if missing
  python3 -m venv bench/.venvs/metaflow
  bench/.venvs/metaflow/bin/pip install --quiet metaflow
fi
exec .venv/bin/python bench/runtime/bench.py "$@"
