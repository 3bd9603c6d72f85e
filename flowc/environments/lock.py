"""A lock: the exact wheels of one environment for one platform and Python, and where it is kept.

A lock is plain JSON stored as a content-addressed object (its SHA-256 names it)::

    {"environment": "pypi-…", "requirements": ["pandas==2.2.3"], "python": "3.11",
     "platform": "linux_x86_64",
     "wheels": [{"name": "pandas", "version": "2.2.3", "file": "pandas-2.2.3-…whl", "sha256": "…"}]}

Every wheel is an object of the datastore too (``objects/<sha[:2]>/<sha>``): that is the
wheelhouse, shared by all flows, never holding a wheel twice. Two small records point at locks:

- ``environments/<name>/<platform>-<python>.json`` ``{"lock": sha}``: the latest resolution of a
  spec (``flowc run`` reuses it; ``flowc env resolve`` makes a new one);
- ``packages/<package sha>/environments.json`` ``{name: lock sha}``: the locks a deployment's tasks
  install, written by ``flowc deploy`` beside the code package (the bootstrap reads it).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

# Defined by the installer, which runs where flowc cannot be imported (standard library only).
from flowc.environments.install import deployed_locks_key

__all__ = [
    "Lock",
    "Wheel",
    "deployed_locks_key",
    "latest_lock_key",
    "lock_from_bytes",
]


@dataclass(frozen=True)
class Wheel:
    """One wheel of a lock."""

    name: str
    version: str
    file: str
    sha256: str


@dataclass(frozen=True)
class Lock:
    """The resolution of environment ``environment`` for ``platform`` and ``python``."""

    environment: str
    requirements: tuple[str, ...]
    python: str
    platform: str
    wheels: tuple[Wheel, ...]

    def to_bytes(self) -> bytes:
        """Canonical JSON: the same lock always has the same hash."""
        data = {
            "environment": self.environment,
            "requirements": list(self.requirements),
            "python": self.python,
            "platform": self.platform,
            "wheels": [w.__dict__ for w in sorted(self.wheels, key=lambda w: w.name)],
        }
        return (json.dumps(data, sort_keys=True, indent=1) + "\n").encode()

    @property
    def sha(self) -> str:
        """The lock's SHA-256: its object key and the name of its installed environment."""
        return hashlib.sha256(self.to_bytes()).hexdigest()

    def summary(self) -> str:
        """``name==version`` of every wheel, comma separated (what `flowc env show` prints)."""
        return ", ".join(f"{w.name}=={w.version}" for w in self.wheels) or "(no packages)"


def lock_from_bytes(data: bytes | memoryview) -> Lock:
    """The lock stored as ``data`` (ValueError when it is not one)."""
    try:
        raw: dict[str, Any] = json.loads(bytes(data))
        return Lock(
            environment=raw["environment"],
            requirements=tuple(raw["requirements"]),
            python=raw["python"],
            platform=raw["platform"],
            wheels=tuple(Wheel(**w) for w in raw["wheels"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"not a flowc environment lock: {exc}") from None


def latest_lock_key(name: str, platform: str, python: str) -> str:
    """The record of the latest lock of environment ``name`` for ``platform`` and ``python``."""
    return f"environments/{name}/{platform}-{python}.json"
