"""Installing a lock from the datastore's wheelhouse: standard library only (docs/environments.md).

The bootstrap imports this module from the code package it has just unpacked (so the fixed
bootstrap text that every document carries stays small), the task runner and ``flowc run`` import
it from flowc: one installer everywhere. The environment of lock ``sha`` is the folder
``<cache>/env-<sha>``, made whole and then renamed into place (tasks on one machine may race);
its ``site`` folder goes first on the task's ``PYTHONPATH``.
"""

import hashlib
import json
import os
import sys

# shutil, subprocess and tempfile are imported where used: every task's start reads the names
# below (flowc/metadata.py), and must not pay for them.

__all__ = [
    "ACTIVE_ENV",
    "ENVIRONMENT_ENV",
    "EnvironmentProblem",
    "activate",
    "deployed_locks_key",
    "enter_deployed",
    "install_environment",
    "running_python",
]

#: The ``@pypi`` environment a task's step declares (its name; set by the compiled document).
ENVIRONMENT_ENV = "FLOWC_ENVIRONMENT"
#: The lock whose environment the process already runs in (set once it is installed and on the path).
ACTIVE_ENV = "FLOWC_ENVIRONMENT_ACTIVE"


class EnvironmentProblem(Exception):
    """An environment that cannot be installed: a missing or corrupt wheel, another Python, no installer."""


def running_python():
    """This interpreter's ``X.Y`` (a lock's Python must be it)."""
    return "{}.{}".format(*sys.version_info[:2])


def deployed_locks_key(package_sha):
    """The record of the locks the tasks of code package ``package_sha`` install."""
    return f"packages/{package_sha}/environments.json"


def _installer(target, wheels):
    """uv when there is one (beside this Python, or on PATH), else pip: both install wheels offline."""
    import shutil

    uv = os.path.join(os.path.dirname(sys.executable), "uv")
    uv = uv if os.access(uv, os.X_OK) else shutil.which("uv")
    if uv:
        return [uv, "pip", "install", "--quiet", "--no-index", "--no-deps", "--python", sys.executable,
                "--target", target, *wheels]  # fmt: skip
    return [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            "--no-warn-script-location", "--no-index", "--no-deps", "--target", target, *wheels]  # fmt: skip


def _place(target, fill):
    """Makes folder ``target`` by ``fill(staging)`` then one rename: never seen half-made."""
    import shutil
    import tempfile

    if os.path.isdir(target):
        return
    os.makedirs(os.path.dirname(target), exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".staging-", dir=os.path.dirname(target))
    try:
        fill(staging)
        os.rename(staging, target)
    except OSError:
        if not os.path.isdir(target):  # not a lost race with another task on this machine
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def install_environment(lock_data, read_object, cache):
    """The folder to put first on ``sys.path`` for the lock stored as ``lock_data``, installed once.

    Args:
        lock_data: the lock's bytes (its SHA-256 names the environment).
        read_object: ``read_object(sha) -> bytes``, a wheel of the wheelhouse.
        cache: the cache root.

    Raises:
        EnvironmentProblem: another Python, a corrupt wheel, an installer that failed.
    """
    import subprocess

    lock = json.loads(lock_data)
    if lock["python"] != running_python():
        raise EnvironmentProblem(
            f"environment {lock['environment']} is locked for Python {lock['python']}, this is Python "
            f"{running_python()}: use an image with Python {lock['python']}"
        )
    folder = os.path.join(cache, "env-" + hashlib.sha256(lock_data).hexdigest())

    def fill(staging):
        wheels = []
        for wheel in lock["wheels"]:
            data = read_object(wheel["sha256"])
            if hashlib.sha256(data).hexdigest() != wheel["sha256"]:
                raise EnvironmentProblem(
                    f"wheel {wheel['file']} of environment {lock['environment']} is corrupt in the "
                    f"wheelhouse (its bytes do not hash to {wheel['sha256']})"
                )
            path = os.path.join(staging, wheel["file"])
            with open(path, "wb") as handle:
                handle.write(data)
            wheels.append(path)
        site = os.path.join(staging, "site")
        if wheels:
            command = _installer(site, wheels)
            done = subprocess.run(command, capture_output=True, text=True, timeout=1800, check=False)
            if done.returncode != 0:
                detail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
                raise EnvironmentProblem(f"installing environment {lock['environment']} failed: {detail[0]}")
        else:
            os.makedirs(site)
        for path in wheels:
            os.remove(path)

    _place(folder, fill)
    return os.path.join(folder, "site")


def activate(environ, site, lock_sha):
    """``environ`` changed so that a Python started with it imports from ``site`` first."""
    inherited = [environ["PYTHONPATH"]] if environ.get("PYTHONPATH") else []
    environ["PYTHONPATH"] = os.pathsep.join([site, *inherited])
    environ[ACTIVE_ENV] = lock_sha
    return environ


def enter_deployed(environ, read, package_sha, cache):
    """``environ`` with the environment ``environ[ENVIRONMENT_ENV]`` of a deployed package installed
    and first on the path (unchanged when there is none, or it is active already).

    ``read(key, what)`` returns the bytes of datastore key ``key`` (``what`` names it in errors).
    Raises :class:`EnvironmentProblem`.
    """
    import subprocess

    name = environ.get(ENVIRONMENT_ENV)
    if not name or environ.get(ACTIVE_ENV):
        return environ
    try:
        lock_sha = json.loads(read(deployed_locks_key(package_sha), "the locks of the deployment"))[name]
    except (ValueError, KeyError):
        raise EnvironmentProblem(
            f"no lock of environment {name} beside code package {package_sha}: deploy the flow again"
        ) from None
    lock_data = read(f"objects/{lock_sha[:2]}/{lock_sha}", "the environment lock")
    if hashlib.sha256(lock_data).hexdigest() != lock_sha:
        raise EnvironmentProblem(f"the lock {lock_sha} of environment {name} is corrupt (its hash differs)")

    def wheel(sha):
        return read(f"objects/{sha[:2]}/{sha}", "a wheel of the wheelhouse")

    try:
        site = install_environment(lock_data, wheel, cache)
    except (OSError, subprocess.SubprocessError) as exc:
        raise EnvironmentProblem(f"installing environment {name}: {exc}") from None
    return activate(environ, site, lock_sha)
