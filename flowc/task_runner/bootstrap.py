"""Starting a task from a code package: ``--package SHA`` and the fixed bootstrap for bare images.

:func:`materialize_package` is what ``python -m flowc.task_runner --package SHA`` calls: it fetches
the package (:mod:`flowc.package`) from the datastore, decompresses it and checks the hash of its
tar (:func:`~flowc.task_runner.bootstrap_program.package_tar`), and unpacks it into a cache
folder named by the hash, ``$FLOWC_PACKAGE_CACHE/<sha>`` (default: ``<tmp>/flowc-packages-<uid>``).
Unpacking goes to a fresh temporary folder that is renamed into place, so concurrent tasks on one
machine never see a half-unpacked package, and a package already there costs no request at all.

:data:`BOOTSTRAP_SOURCE` (``bootstrap_program.py``) starts tasks in images without flowc: a fixed
program, standard library only, that does the same (and installs boto3 with pip when an S3
datastore needs it and the image has none), then replaces itself with ``python -m MODULE ARGS``
running flowc from the package. Targets ship its text once, in the tasks' environment
(:data:`BOOTSTRAP_ENV`), and start each task with :data:`LAUNCHER` (:func:`bootstrap_command`), so
no argv grows and no shell script is generated; :func:`flowc.backends.launch.task_launch` chooses
between that and ``python -m`` (setting ``bootstrap``).
"""

from __future__ import annotations

import functools
import io
import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flowc.datastore.storage import NotFound, StorageError
from flowc.task_runner.bootstrap_program import extract_package, package_tar

__all__ = [
    "BOOTSTRAP_ENV",
    "BOOTSTRAP_SOURCE",  # noqa: F822 - module __getattr__ below (read on first use)
    "LAUNCHER",
    "MODULE_LAUNCHER",
    "PackageIntegrityError",
    "PackageNotFound",
    "bootstrap_command",
    "materialize_package",
    "package_cache_dir",
    "package_flow_file",
]


@functools.cache
def _shipped_source() -> str:
    """The bootstrap program as tasks receive it: its code, without the module docstring (which
    every compiled document would otherwise carry), and no final newline (Airflow renders a pod's
    environment with Jinja, which drops one)."""
    text = Path(__file__).with_name("bootstrap_program.py").read_text(encoding="utf-8")
    docstring_end = text.index('"""', 3) + 3
    header = "# flowc's task bootstrap (flowc/task_runner/bootstrap_program.py; docs/architecture.md)\n"
    return header + text[docstring_end:].strip("\n")


#: The environment variable holding the bootstrap's text (:data:`BOOTSTRAP_SOURCE`).
BOOTSTRAP_ENV = "FLOWC_BOOTSTRAP_SOURCE"
#: How a task starts in an image without flowc: a fixed 45-byte program that runs the bootstrap
#: from the environment, so the argv stays as short as ``python -m flowc.task_runner``'s. No ``'``
#: in it: Step Functions' intrinsic functions reserve that character (it would need escaping).
LAUNCHER = ("python", "-c", f'import os;exec(os.environ["{BOOTSTRAP_ENV}"])')
#: How a task starts in an image that has flowc installed.
MODULE_LAUNCHER = ("python", "-m")


def __getattr__(name: str) -> Any:
    """``BOOTSTRAP_SOURCE``: the fixed bootstrap program (``bootstrap_program.py``), standard library
    only, the same text for every task; a target ships it once (a workflow argument, a job
    definition's environment, a constant of the DAG file) and every task's environment carries it
    in :data:`BOOTSTRAP_ENV`. Read when first asked for (PEP 562): a task that imports this module
    to unpack its package never needs it."""
    if name == "BOOTSTRAP_SOURCE":
        return _shipped_source()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class PackageIntegrityError(StorageError):
    """A downloaded package whose bytes do not match its hash, or that cannot be unpacked."""


class PackageNotFound(NotFound):
    """No package with that hash in the datastore (it was stored in another one, or never)."""

    def __str__(self) -> str:
        sha, url = self.args
        return f"no code package {sha} in datastore {url} (store it there with: flowc package FLOW.py)"


def package_cache_dir() -> Path:
    """Where packages are unpacked: ``$FLOWC_PACKAGE_CACHE`` or ``<tmp>/flowc-packages-<uid>``."""
    configured = os.environ.get("FLOWC_PACKAGE_CACHE")
    if configured:
        return Path(configured)
    return Path(tempfile.gettempdir()) / f"flowc-packages-{os.getuid()}"


def materialize_package(storage: Any, sha: str, cache_dir: str | Path | None = None) -> Path:
    """The folder holding package ``sha`` unpacked, fetching it from ``storage`` if not cached.

    Args:
        storage: the datastore (:class:`flowc.datastore.storage.Storage`) holding the package.
        sha: the package's SHA-256 (hex).
        cache_dir: the cache root (default: :func:`package_cache_dir`).

    Raises:
        PackageNotFound: no such package in the datastore (a ``NotFound``).
        PackageIntegrityError: it is not gzip data, its tar does not hash to ``sha``, or the tar
            is not a valid package.
    """
    if len(sha) != 64 or any(ch not in "0123456789abcdef" for ch in sha):
        raise ValueError(f"not a package hash (64 lowercase hex digits): {sha!r}")
    root = Path(cache_dir) if cache_dir is not None else package_cache_dir()
    target = root / sha
    if target.is_dir():
        return target  # renamed into place whole, so present means complete
    from flowc.datastore.layout import package_key

    try:
        stored = storage.read(package_key(sha))
    except NotFound:
        raise PackageNotFound(sha, storage.url) from None
    try:
        data = package_tar(bytes(stored), sha)
    except ValueError as exc:
        raise PackageIntegrityError(f"package {sha} in datastore {storage.url} is corrupt: {exc}") from None
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{sha[:12]}-", dir=root))
    try:
        try:
            with tarfile.open(fileobj=io.BytesIO(data)) as archive:
                # Members checked on every Python (absolute paths, "..", links, devices).
                extract_package(archive, staging)
        except (ValueError, tarfile.TarError, OSError) as exc:
            raise PackageIntegrityError(f"package {sha} cannot be unpacked: {exc}") from exc
        try:
            staging.rename(target)
        except OSError:
            if not target.is_dir():  # not a lost race: a real failure
                raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target


def package_flow_file(package_dir: str | Path) -> Path:
    """The flow file of an unpacked package (named by its manifest)."""
    from flowc.package import MANIFEST_NAME

    manifest = json.loads((Path(package_dir) / MANIFEST_NAME).read_text(encoding="utf-8"))
    return Path(package_dir) / manifest["flow_file"]


def bootstrap_command(module: str, args: Sequence[str], python: str = "python") -> list[str]:
    """The command that runs flowc module ``module`` with ``args`` in an image without flowc.

    The environment must hold :data:`BOOTSTRAP_SOURCE` in :data:`BOOTSTRAP_ENV`; ``args`` must
    include ``--package SHA`` and ``--datastore URL`` (or the environment ``FLOWC_DATASTORE``).

    Args:
        module: ``flowc.task_runner`` or another flowc entry point (``flowc.task_runner.finish``).
        args: the module's argv.
        python: the image's Python interpreter.
    """
    return [python, *LAUNCHER[1:], module, *args]
