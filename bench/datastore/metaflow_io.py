"""Metaflow's side of the datastore benchmark (runs in bench/.venvs/metaflow): 1 GiB numpy artifact
saved and loaded through Metaflow's own local TaskDataStore (pickle, hash, gzip), as its tasks do.

Prints one JSON line: {"save_s": [...], "load_s": [...], "bytes": n, "version": "..."}.
"""

import json
import os
import sys
import tempfile
import time

import metaflow
import numpy as np
from metaflow.datastore import FlowDataStore
from metaflow.plugins.datastores.local_storage import LocalStorage


def main() -> None:
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 1 << 30
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    array = np.random.default_rng(0).integers(0, 255, size=size, dtype=np.uint8)
    root = tempfile.mkdtemp(prefix="mf-bench-", dir=os.environ.get("BENCH_TMP"))
    store = FlowDataStore("BenchFlow", storage_impl=LocalStorage, ds_root=root)
    saves, loads = [], []
    for repeat in range(repeats):
        array[:8] = repeat + 1  # new bytes each time: nothing is deduplicated
        os.sync()
        task = store.get_task_datastore("1", "start", str(repeat), attempt=0, mode="w")
        task.init_task()
        started = time.perf_counter()
        task.save_artifacts(iter([("array", array)]))
        task.done()
        saves.append(time.perf_counter() - started)
        reader = store.get_task_datastore("1", "start", str(repeat), mode="r")
        started = time.perf_counter()
        loaded = dict(reader.load_artifacts(["array"]))["array"]
        loads.append(time.perf_counter() - started)
        assert loaded.shape == array.shape and loaded[0] == repeat + 1
        del loaded
    print(json.dumps({"save_s": saves, "load_s": loads, "bytes": size, "version": metaflow.__version__}))
    import shutil

    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
