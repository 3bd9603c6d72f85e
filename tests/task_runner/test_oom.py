"""A task killed by the OOM killer is reported as most likely out of memory (issue 19 item 13).

No OOM kill can be made safely on this machine (its cgroup v2 hierarchy has no memory controller,
and the v1 memory hierarchy belongs to the machine's own process manager), so the decision is
tested on cgroup files written in the kernel's formats (v2 ``memory.events``/``memory.peak``/
``memory.max``, v1 ``memory.oom_control``/``memory.max_usage_in_bytes``/``memory.limit_in_bytes``)
in a temporary folder; the real cgroup files of this machine are read too, and a task that
SIGKILLs itself runs for real (a SIGKILL without an OOM kill is not called one).
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from flowc.task_runner.oom import memory_state, memory_state_of, signal_reason

MiB = 1 << 20


def _v2(root: Path, oom_kills: int, peak: int = 900 * MiB, limit: str = str(1024 * MiB)) -> None:
    folder = root / "flowc.slice" / "task"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "memory.events").write_text(
        f"low 0\nhigh 0\nmax 12\noom 1\noom_kill {oom_kills}\noom_group_kill 0\n"
    )
    (folder / "memory.peak").write_text(f"{peak}\n")
    (folder / "memory.max").write_text(f"{limit}\n")


def _v1(root: Path, oom_kills: int, peak: int = 100 * MiB, limit: int = (1 << 63) - 4096) -> None:
    folder = root / "memory" / "runner"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "memory.oom_control").write_text(f"oom_kill_disable 0\nunder_oom 0\noom_kill {oom_kills}\n")
    (folder / "memory.max_usage_in_bytes").write_text(f"{peak}\n")
    (folder / "memory.limit_in_bytes").write_text(f"{limit}\n")


V2_MEMBERSHIP = "0::/flowc.slice/task\n"
V1_MEMBERSHIP = "9:name=systemd:/\n4:memory:/runner\n3:cpuset:/\n0::/\n"


def test_a_sigkill_while_the_oom_counter_grew_is_most_likely_out_of_memory(tmp_path: Path) -> None:
    _v2(tmp_path, oom_kills=0)
    before = memory_state_of(V2_MEMBERSHIP, tmp_path)
    _v2(tmp_path, oom_kills=1, peak=1024 * MiB)
    after = memory_state_of(V2_MEMBERSHIP, tmp_path)
    reason = signal_reason(signal.SIGKILL, before, after)
    assert reason.startswith("the task process was killed by signal SIGKILL (9): most likely out of memory")
    assert "OOM killer ended 1 process(es)" in reason and str(tmp_path / "flowc.slice" / "task") in reason
    assert "memory peak 1024 MiB of a 1024 MiB limit" in reason


def test_cgroup_v1_counters_are_read_too(tmp_path: Path) -> None:
    _v1(tmp_path, oom_kills=3)
    before = memory_state_of(V1_MEMBERSHIP, tmp_path)
    assert before is not None and before.limit is None  # v1's "unlimited"
    _v1(tmp_path, oom_kills=4)
    reason = signal_reason(signal.SIGKILL, before, memory_state_of(V1_MEMBERSHIP, tmp_path))
    assert "most likely out of memory" in reason and "memory peak 100 MiB" in reason


def test_no_oom_kill_no_claim(tmp_path: Path) -> None:
    _v2(tmp_path, oom_kills=2, peak=100 * MiB)
    state = memory_state_of(V2_MEMBERSHIP, tmp_path)
    assert signal_reason(signal.SIGKILL, state, state) == "the task process was killed by signal SIGKILL (9)"
    # Another signal is never the OOM killer, whatever the counters say.
    _v2(tmp_path, oom_kills=3)
    grown = memory_state_of(V2_MEMBERSHIP, tmp_path)
    assert signal_reason(signal.SIGTERM, state, grown) == "the task process was killed by signal SIGTERM (15)"
    # Counters of another cgroup say nothing about this one.
    _v1(tmp_path, oom_kills=9)
    assert "out of memory" not in signal_reason(
        signal.SIGKILL, memory_state_of(V1_MEMBERSHIP, tmp_path), state
    )
    # Nothing readable: the signal alone.
    assert signal_reason(signal.SIGKILL, None, None) == "the task process was killed by signal SIGKILL (9)"


def test_a_peak_at_the_limit_is_possibly_out_of_memory(tmp_path: Path) -> None:
    _v2(tmp_path, oom_kills=0, peak=1000 * MiB)
    state = memory_state_of(V2_MEMBERSHIP, tmp_path)
    assert "possibly out of memory (memory peak 1000 MiB of a 1024 MiB limit)" in signal_reason(
        9, state, state
    )
    _v2(tmp_path, oom_kills=0, peak=1000 * MiB, limit="max")
    unlimited = memory_state_of(V2_MEMBERSHIP, tmp_path)
    assert "out of memory" not in signal_reason(signal.SIGKILL, unlimited, unlimited)


def test_this_machines_cgroup_files_read() -> None:
    state = memory_state()
    if state is None:
        pytest.skip("no memory cgroup readable here")
    assert state.oom_kills is not None and state.oom_kills >= 0


def test_a_task_that_sigkills_itself_is_not_called_out_of_memory(tmp_path: Path) -> None:
    flow = tmp_path / "killed_flow.py"
    flow.write_text(
        "import os, signal\nfrom flowc import FlowSpec, step\n\n\nclass KilledFlow(FlowSpec):\n"
        "    @step\n    def start(self):\n        os.kill(os.getpid(), signal.SIGKILL)\n"
        "        self.next(self.end)\n\n"
        "    @step\n    def end(self):\n        pass\n",
        encoding="utf-8",
    )
    for executor in ("fork", "subprocess"):
        argv = ["run", str(flow), "--datastore", str(tmp_path / "ds"), "--executor", executor]
        result = subprocess.run(
            [sys.executable, "-m", "flowc", *argv],
            capture_output=True, text=True, check=False, cwd=tmp_path, timeout=120,
        )  # fmt: skip
        assert result.returncode == 1
        output = result.stdout + result.stderr
        assert "killed by signal SIGKILL (9)" in output, output
        assert "out of memory" not in output
