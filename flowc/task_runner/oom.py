"""Why a task process died by a signal, and whether the kernel's OOM killer is the likely cause.

The OOM killer ends a process with SIGKILL, which by itself says nothing; the kernel's memory
cgroup does: its ``oom_kill`` counter counts the processes it killed for lack of memory
(cgroup v2 ``memory.events``, v1 ``memory.oom_control``), beside the cgroup's peak use and limit
(https://docs.kernel.org/admin-guide/cgroup-v2.html#memory-interface-files). The counters are
read from the cgroup of the process that runs the task when it starts (:func:`memory_state`) and
again when it has died (:func:`signal_reason`): a SIGKILL while the counter grew is "most likely
out of memory"; a SIGKILL with the peak at 90 % of the limit or more is "possibly". Nothing here
fails: where no cgroup can be read (not Linux, no memory controller), the reason is the signal.
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass
from pathlib import Path

__all__ = ["MemoryState", "memory_state", "memory_state_of", "signal_reason"]

#: Where cgroup file systems are mounted (v2 alone, or v1 controllers with v2 under ``unified``).
CGROUP_ROOT = "/sys/fs/cgroup"
#: A peak use at this share of the limit or more counts as "possibly out of memory".
NEAR_LIMIT = 0.9
#: cgroup v1 writes "no limit" as a page-rounded 2**63 - 1.
_V1_UNLIMITED = 1 << 62


@dataclass(frozen=True)
class MemoryState:
    """A memory cgroup's OOM-kill counter, peak use and limit (bytes; None when unknown)."""

    cgroup: str
    oom_kills: int | None
    peak: int | None
    limit: int | None


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def _number(text: str | None) -> int | None:
    try:
        return int(text.strip()) if text is not None else None
    except ValueError:  # "max": no limit
        return None


def _field(text: str | None, name: str) -> int | None:
    for line in (text or "").splitlines():
        key, _, value = line.partition(" ")
        if key == name:
            return _number(value)
    return None


def memory_state(pid: int | None = None, root: str = CGROUP_ROOT) -> MemoryState | None:
    """The memory cgroup of process ``pid`` (default: this one) as the kernel reports it now."""
    membership = _read(Path(f"/proc/{pid or os.getpid()}/cgroup"))
    if membership is None:
        return None
    return memory_state_of(membership, Path(root))


def memory_state_of(membership: str, root: Path) -> MemoryState | None:
    """:func:`memory_state` from the text of ``/proc/<pid>/cgroup`` and the cgroup mount ``root``."""
    for line in membership.splitlines():
        _, controllers, path = line.split(":", 2) if line.count(":") >= 2 else ("", "", "")
        relative = path.strip().lstrip("/")
        if controllers == "":  # cgroup v2: memory.events, memory.peak, memory.max
            for mount in (root, root / "unified"):
                folder = mount / relative
                events = _read(folder / "memory.events")
                if events is not None:
                    return MemoryState(
                        str(folder),
                        _field(events, "oom_kill"),
                        _number(_read(folder / "memory.peak")),
                        _number(_read(folder / "memory.max")),
                    )
        elif "memory" in controllers.split(","):  # cgroup v1
            folder = root / "memory" / relative
            control = _read(folder / "memory.oom_control")
            if control is not None:
                limit = _number(_read(folder / "memory.limit_in_bytes"))
                return MemoryState(
                    str(folder),
                    _field(control, "oom_kill"),
                    _number(_read(folder / "memory.max_usage_in_bytes")),
                    None if limit is None or limit >= _V1_UNLIMITED else limit,
                )
    return None


def _mib(size: int) -> str:
    return f"{size / (1 << 20):.0f} MiB"


#: Signals by which a process crashed rather than was stopped.
_CRASH_SIGNALS = frozenset({signal.SIGSEGV, signal.SIGBUS, signal.SIGFPE, signal.SIGILL, signal.SIGABRT})


def signal_reason(signum: int, before: MemoryState | None, after: MemoryState | None) -> str:
    """Why a task process killed by ``signum`` died, with the kernel's word on memory if it has one.

    Args:
        signum: the signal that ended the process.
        before: its cgroup's :func:`memory_state` when the task started.
        after: the same cgroup's state now.
    """
    name = signal.Signals(signum).name if signum in signal.Signals._value2member_map_ else str(signum)
    reason = f"the task process was killed by signal {name} ({signum})"
    if signum in _CRASH_SIGNALS:  # say it as Metaflow does: "segmentation fault"
        return f"{reason}: {(signal.strsignal(signum) or name).lower()} (a crash, e.g. in native code)"
    if signum != signal.SIGKILL or after is None:
        return reason
    use = f"memory peak {_mib(after.peak)}" if after.peak is not None else ""
    if use and after.limit:
        use += f" of a {_mib(after.limit)} limit"
    killed = (
        after.oom_kills - before.oom_kills
        if before is not None
        and before.cgroup == after.cgroup
        and None not in (before.oom_kills, after.oom_kills)
        else 0
    )
    if killed > 0:
        evidence = f"the kernel's OOM killer ended {killed} process(es) of cgroup {after.cgroup} meanwhile"
        return f"{reason}: most likely out of memory ({evidence}{'; ' + use if use else ''})"
    if after.peak is not None and after.limit and after.peak >= NEAR_LIMIT * after.limit:
        return f"{reason}: possibly out of memory ({use})"
    return reason
