"""Spec -> lock: uv resolves (pip is the fallback), pip downloads the wheels, the datastore keeps them.

flowc writes no resolver: ``uv pip compile`` finds the exact versions and their hashes for the
target platform and Python (``--python-platform``, ``--python-version``), then ``pip download``
fetches the wheel of each pinned version for that platform, checking it against uv's hashes
(``--require-hashes``). Without uv, ``pip download`` resolves and fetches in one go. Wheels only
(``--only-binary=:all:``): a pod installs without a compiler and without an index.

Where packages come from is configuration: ``pypi.index_url``, ``pypi.find_links`` and
``pypi.no_index`` (docs/environments.md).
"""

from __future__ import annotations

import hashlib
import platform as host_platform
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowc.environments.install import running_python
from flowc.environments.lock import Lock, Wheel, latest_lock_key, lock_from_bytes
from flowc.ir import FlowIR, PythonEnvironment

__all__ = [
    "PLATFORMS",
    "ResolveError",
    "Sources",
    "host_platform_name",
    "lock_environments",
    "resolve",
]

#: Target platforms: uv's ``--python-platform`` and pip's ``--platform`` tags for each.
PLATFORMS: dict[str, tuple[str, tuple[str, ...]]] = {
    "linux_x86_64": (
        "x86_64-manylinux_2_28",
        ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64", "linux_x86_64"),
    ),
    "linux_aarch64": (
        "aarch64-manylinux_2_28",
        ("manylinux_2_28_aarch64", "manylinux_2_17_aarch64", "manylinux2014_aarch64", "linux_aarch64"),
    ),
}
_WHEEL = re.compile(r"^(?P<name>[^-]+)-(?P<version>[^-]+)(-\d[^-]*)?-[^-]+-[^-]+-[^-]+\.whl$")


class ResolveError(RuntimeError):
    """An environment that cannot be locked (the message names the steps and what uv or pip said)."""


@dataclass(frozen=True)
class Sources:
    """Where packages come from (settings ``pypi.*``)."""

    index_url: str | None = None
    find_links: tuple[str, ...] = ()
    no_index: bool = False

    @classmethod
    def from_settings(cls, settings: Any) -> Sources:
        return cls(
            index_url=settings.get("pypi.index_url") or None,
            find_links=tuple(settings.get("pypi.find_links") or ()),
            no_index=bool(settings.get("pypi.no_index")),
        )

    def options(self) -> list[str]:
        """The options uv and pip both take for these sources."""
        options = ["--no-index"] if self.no_index else []
        if self.index_url and not self.no_index:
            options += ["--index-url", self.index_url]
        for link in self.find_links:
            options += ["--find-links", link]
        return options


def host_platform_name() -> str:
    """This machine's platform as a lock names it (``linux_x86_64``)."""
    return f"{sys.platform}_{host_platform.machine()}".lower()


def _uv() -> str | None:
    try:
        from uv import find_uv_bin
    except ImportError:
        return shutil.which("uv")
    try:
        return find_uv_bin()
    except FileNotFoundError:
        return shutil.which("uv")


def _run(command: Sequence[str], what: str, stdin: str | None = None) -> str:
    done = subprocess.run(list(command), input=stdin, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        lines = [line.strip() for line in (done.stderr or done.stdout).splitlines() if line.strip()]
        # uv and pip end with their reason ("no version of x==9 ...", "No matching distribution").
        reason = " ".join(lines[-3:]) if lines else f"exit code {done.returncode}"
        raise ResolveError(f"{what}: {reason}")
    return done.stdout


def _pinned(compiled: str) -> list[str]:
    """``name==version --hash=...`` lines of ``uv pip compile --generate-hashes`` output."""
    text = compiled.replace("\\\n", " ")
    return [" ".join(line.split()) for line in text.splitlines() if line.strip() and not line.startswith("#")]


def resolve(
    environment: PythonEnvironment, *, python: str, platform: str, sources: Sources, folder: Path
) -> tuple[Lock, dict[str, Path]]:
    """The lock of ``environment`` and its wheels (sha -> file, downloaded into ``folder``).

    Raises:
        ResolveError: uv or pip could not resolve or download (their reason in the message).
    """
    if not environment.requirements:
        return Lock(environment.name, (), python, platform, ()), {}
    targeted = platform in PLATFORMS and platform != host_platform_name()
    uv_platform, pip_platforms = PLATFORMS.get(platform, (None, ()))
    pip_target = ["--python-version", python, "--only-binary=:all:"]
    if targeted or python != running_python():
        for tag in pip_platforms or (platform,):
            pip_target += ["--platform", tag]
        pip_target += [
            "--implementation",
            "cp",
            "--abi",
            "cp" + python.replace(".", ""),
            "--abi",
            "abi3",
            "--abi",
            "none",
        ]
    download = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--disable-pip-version-check",
        "--dest",
        str(folder),
        *pip_target,
        *sources.options(),
    ]
    uv = _uv()
    if uv:
        compile_command = [
            uv,
            "pip",
            "compile",
            "-",
            "--quiet",
            "--generate-hashes",
            "--no-header",
            "--no-annotate",
            "--python-version",
            python,
            "--only-binary",
            ":all:",
            *sources.options(),
        ]
        if uv_platform and targeted:
            compile_command += ["--python-platform", uv_platform]
        pinned = _pinned(_run(compile_command, "uv could not resolve", "\n".join(environment.requirements)))
        requirements = folder / "requirements.txt"
        requirements.write_text("\n".join(pinned) + "\n", encoding="utf-8")
        _run([*download, "--no-deps", "--require-hashes", "-r", str(requirements)], "pip could not download")
        requirements.unlink()
    else:
        _run([*download, *environment.requirements], "pip could not resolve")
    wheels, files = [], {}
    for path in sorted(folder.glob("*.whl")):
        match = _WHEEL.match(path.name)
        if match is None:
            raise ResolveError(f"pip downloaded {path.name}, which is not a wheel")
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        name = re.sub(r"[-_.]+", "-", match["name"]).lower()
        wheels.append(Wheel(name, match["version"], path.name, sha))
        files[sha] = path
    lock = Lock(environment.name, environment.requirements, python, platform, tuple(wheels))
    return lock, files


def _store(storage: Any, lock: Lock, files: Mapping[str, Path]) -> None:
    """Wheels into the wheelhouse (each once), then the lock, then the record of the latest lock."""
    import json

    from flowc.datastore.layout import object_key

    present = storage.exists_many([object_key(sha) for sha in files])
    for sha, path in files.items():
        if not present.get(object_key(sha)):
            storage.write(object_key(sha), path.read_bytes())
    storage.write(object_key(lock.sha), lock.to_bytes())
    record = json.dumps({"lock": lock.sha}).encode()
    storage.write(latest_lock_key(lock.environment, lock.platform, lock.python), record)


def latest_lock(storage: Any, name: str, platform: str, python: str) -> Lock | None:
    """The lock last made for environment ``name``, ``platform`` and ``python``, or None."""
    import json

    from flowc.datastore.layout import object_key
    from flowc.datastore.storage import NotFound

    try:
        sha = json.loads(bytes(storage.read(latest_lock_key(name, platform, python))))["lock"]
        return lock_from_bytes(storage.read(object_key(sha)))
    except NotFound:
        return None


def environments_of(ir: FlowIR) -> dict[str, tuple[PythonEnvironment, list[str]]]:
    """Each distinct environment of ``ir`` by name, with the steps that use it (source order)."""
    found: dict[str, tuple[PythonEnvironment, list[str]]] = {}
    for step in ir.steps:
        if step.python_environment is not None:
            found.setdefault(step.python_environment.name, (step.python_environment, []))[1].append(step.name)
    return found


def lock_environments(
    ir: FlowIR,
    storage: Any,
    settings: Any,
    *,
    platform: str,
    fresh: bool = False,
    on_resolve: Any = None,
) -> dict[str, Lock]:
    """The lock of every environment of ``ir`` (by name), each resolved once, all stored.

    Args:
        platform: the platform to lock for (``host_platform_name()`` for ``flowc run``).
        fresh: resolve again even where a lock was made before (``flowc env resolve``).
        on_resolve: called with (environment name, steps) before each resolution (progress).

    Raises:
        ResolveError: naming the steps of the environment that failed and uv's or pip's reason.
    """
    sources = Sources.from_settings(settings)
    default_python = settings.get("pypi.python") or running_python()
    locks: dict[str, Lock] = {}
    for name, (environment, steps) in environments_of(ir).items():
        python = environment.python or default_python
        lock = None if fresh else latest_lock(storage, name, platform, python)
        if lock is None:
            if on_resolve is not None:
                on_resolve(name, steps)
            with tempfile.TemporaryDirectory(prefix="flowc-wheels-") as folder:
                try:
                    lock, files = resolve(
                        environment, python=python, platform=platform, sources=sources, folder=Path(folder)
                    )
                except ResolveError as exc:
                    which = "step" if len(steps) == 1 else "steps"
                    raise ResolveError(
                        f"@pypi of {which} {', '.join(steps)} ({'; '.join(environment.requirements)}, "
                        f"Python {python}, {platform}): {exc}"
                    ) from None
                _store(storage, lock, files)
        locks[name] = lock
    return locks


def steps_by_lock(ir: FlowIR, locks: Mapping[str, Lock]) -> Iterable[tuple[str, Lock]]:
    """(step, lock) of every step that has an environment."""
    for step in ir.steps:
        if step.python_environment is not None:
            yield step.name, locks[step.python_environment.name]
