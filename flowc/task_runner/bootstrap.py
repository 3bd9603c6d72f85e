"""Starting a task from a code package: ``--package SHA`` and the fixed bootstrap for bare images.

:func:`materialize_package` is what ``python -m flowc.task_runner --package SHA`` calls: it fetches
the package (:mod:`flowc.package`) from the datastore, checks its hash, and unpacks it into a cache
folder named by the hash, ``$FLOWC_PACKAGE_CACHE/<sha>`` (default: ``<tmp>/flowc-packages-<uid>``).
Unpacking goes to a fresh temporary folder that is renamed into place, so concurrent tasks on one
machine never see a half-unpacked package, and a package already there costs no request at all.

:func:`bootstrap_command` is the container command for images without flowc: a fixed, short
``python -c`` program (no generated shell; the same text for every task) that does the same with
boto3 alone, then replaces itself with ``python -m flowc.task_runner`` running from the package.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flowc.datastore.storage import StorageError

__all__ = [
    "BOOTSTRAP_SOURCE",
    "PackageIntegrityError",
    "bootstrap_command",
    "materialize_package",
    "package_cache_dir",
    "package_flow_file",
]

#: The fixed bootstrap: ``python -c BOOTSTRAP_SOURCE DATASTORE_URL SHA TASK_ARGS...``. It mirrors
#: :func:`materialize_package` (same cache folder, hash check, unpack then rename) with boto3 only;
#: the S3 endpoint comes from ``FLOWC_S3__ENDPOINT_URL`` or boto3's own configuration.
BOOTSTRAP_SOURCE = (
    "import sys,os,io,hashlib,tarfile,tempfile,shutil,boto3\n"
    "E=os.environ;u,h=sys.argv[1:3];b,_,p=u[5:].partition('/');p=p.strip('/')\n"
    "c=E.get('FLOWC_PACKAGE_CACHE') or '%s/flowc-packages-%d'%(tempfile.gettempdir(),os.getuid())\n"
    "d=os.path.join(c,h);E['FLOWC_PACKAGE_CACHE']=c\n"
    "if not os.path.isdir(d):\n"
    " k=(p and p+'/')+'objects/%s/%s'%(h[:2],h)\n"
    " s=boto3.client('s3',endpoint_url=E.get('FLOWC_S3__ENDPOINT_URL') or None)\n"
    " z=s.get_object(Bucket=b,Key=k)['Body'].read()\n"
    " if hashlib.sha256(z).hexdigest()!=h:sys.exit('flowc: package %s is corrupt'%h)\n"
    " os.makedirs(c,exist_ok=True);t=tempfile.mkdtemp(dir=c)\n"
    " f={'filter':'data'} if hasattr(tarfile,'data_filter') else {}\n"
    " tarfile.open(fileobj=io.BytesIO(z)).extractall(t,**f)\n"
    " try:os.rename(t,d)\n"
    " except OSError:shutil.rmtree(t,True)\n"
    "E['PYTHONPATH']=d+os.pathsep+E.get('PYTHONPATH','')\n"
    "a=[sys.executable,'-m','flowc.task_runner','--package',h,'--datastore',u,*sys.argv[3:]]\n"
    "os.execv(a[0],a)\n"
)


class PackageIntegrityError(StorageError):
    """A downloaded package whose bytes do not match its hash, or that cannot be unpacked."""


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
        flowc.datastore.storage.NotFound: no such package in the datastore.
        PackageIntegrityError: its bytes do not hash to ``sha`` or it is not a valid archive.
    """
    if len(sha) != 64 or any(ch not in "0123456789abcdef" for ch in sha):
        raise ValueError(f"not a package hash (64 lowercase hex digits): {sha!r}")
    root = Path(cache_dir) if cache_dir is not None else package_cache_dir()
    target = root / sha
    if target.is_dir():
        return target  # renamed into place whole, so present means complete
    from flowc.datastore.layout import object_key

    data = storage.read(object_key(sha))
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha:
        raise PackageIntegrityError(
            f"package {sha} in datastore {storage.url} is corrupt: its bytes hash to {actual}"
        )
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{sha[:12]}-", dir=root))
    try:
        try:
            with tarfile.open(fileobj=io.BytesIO(data)) as archive:
                # The "data" filter (Python >= 3.11.4) refuses absolute paths, links out of the
                # folder and devices; the hash check above already vouches for the bytes.
                safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
                archive.extractall(staging, **safe)
        except (tarfile.TarError, OSError) as exc:
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


def bootstrap_command(
    datastore_url: str, sha: str, task_args: Sequence[str], python: str = "python"
) -> list[str]:
    """The container command that runs one task from package ``sha`` in an image without flowc.

    Args:
        datastore_url: ``s3://bucket/prefix`` holding the package.
        sha: the package hash (from :func:`flowc.package.store_package`).
        task_args: the task runner's arguments (``--flow``, ``--step``, ``--run-id``, ...), without
            ``--package`` and ``--datastore`` (the bootstrap passes those).
        python: the image's Python interpreter.

    Returns:
        ``[python, "-c", BOOTSTRAP_SOURCE, datastore_url, sha, *task_args]``.
    """
    if not datastore_url.startswith("s3://"):
        raise ValueError(f"the bootstrap fetches packages from S3; got datastore {datastore_url!r}")
    return [python, "-c", BOOTSTRAP_SOURCE, datastore_url, sha, *task_args]
