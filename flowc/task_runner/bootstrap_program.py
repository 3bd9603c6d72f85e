"""flowc's task bootstrap: run a flowc module from the code package in any image with Python 3.11+.

A target that cannot count on flowc in its image starts every task as

    python -c 'import os;exec(os.environ["FLOWC_BOOTSTRAP_SOURCE"])' MODULE ARGS...

with this file's text in ``FLOWC_BOOTSTRAP_SOURCE`` (see :mod:`flowc.task_runner.bootstrap`),
MODULE being ``flowc.task_runner`` or one of its entry points and ARGS its short argv. The program
is fixed (the same text for every task and flow) and needs only the standard library: it reads
``--package SHA`` and ``--datastore URL`` (or ``FLOWC_DATASTORE``) from ARGS, fetches the package
from the datastore (a folder, or S3 through boto3, which it installs with pip into the cache when
the image has none, as Metaflow's bootstrap does), decompresses it (gzip) and checks the SHA-256
of the tar, unpacks it into the package
cache (the folder :func:`flowc.task_runner.bootstrap.materialize_package` uses, so the task runner
finds it there), and replaces itself with ``python -m MODULE ARGS`` importing flowc and the flow
from the package.

A step with a ``@pypi`` environment has its name in ``FLOWC_ENVIRONMENT``: then the installer of
the unpacked package (``flowc/environments/install.py``, standard library only) installs the lock
recorded beside the package from the datastore's wheelhouse, and puts it first on the path.

What cannot be had (no package, no boto3 and no pip, no credentials, a corrupt wheel) ends it with
one line on stderr and exit code 3, the task runner's code for an infrastructure failure.
"""

import gzip
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zlib

#: What a masked secret reads as.
MASK = "******"
#: The user information of a URL (``scheme://user:password@`` or ``scheme://token@``).
_URL_CREDENTIALS = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*://)([^/\s@\"'<>]*)@")


def mask_credentials(text):
    """``text`` with the password (or lone token) of every URL in it masked: ``http://u:******@h``.

    flowc's one masking function (re-exported as :func:`flowc.redact.mask_credentials`). It lives
    here because this program runs where flowc cannot be imported, and prints errors too.
    """

    def masked(match):
        user, colon, _ = match.group(2).partition(":")
        return match.group(1) + (user + ":" + MASK if colon else MASK) + "@"

    return _URL_CREDENTIALS.sub(masked, str(text))


def fail(message):
    print("flowc bootstrap: " + mask_credentials(message), file=sys.stderr, flush=True)
    sys.exit(3)


def option(args, name):
    for position, arg in enumerate(args):
        if arg == name and position + 1 < len(args):
            return args[position + 1]
        if arg.startswith(name + "="):
            return arg[len(name) + 1 :]
    return None


def place(target, fill):
    """Makes folder ``target`` by ``fill(staging)`` then one rename: never seen half-made."""
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


def member_problem(member):
    """Why ``member`` of a code package must not be unpacked, or None.

    Checked on every Python, not left to tarfile's "data" filter, which Python 3.11.0 to 3.11.3
    lack (https://docs.python.org/3/library/tarfile.html#extraction-filters): there a member named
    ``../x`` or ``/x``, or a link, would be written outside the cache. flowc writes packages of
    regular files only, so anything else is refused: absolute paths, ``..``, links, devices.
    """
    name = member.name.replace("\\", "/")
    if not name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return f"member {member.name!r} has an absolute path"
    if ".." in name.split("/"):
        return f"member {member.name!r} leads out of the package folder"
    if not (member.isfile() or member.isdir()):
        kind = "link" if member.issym() or member.islnk() else "device, FIFO or special file"
        return f"member {member.name!r} is a {kind} (a package holds files and folders only)"
    return None


def package_key(sha):
    return "packages/" + sha + "/code.tar.gz"  # flowc.datastore.layout.package_key


def package_tar(stored, sha):
    """The tar of a stored package (gzip) if it hashes to ``sha``, else ValueError saying why.
    The tar is hashed, not the stored bytes: those depend on the zlib build (flowc/package.py)."""
    try:
        tar = gzip.decompress(stored)
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise ValueError(f"cannot be decompressed ({exc})") from None
    if hashlib.sha256(tar).hexdigest() != sha:
        raise ValueError("its tar hashes otherwise")
    return tar


def extract_package(archive, folder):
    """Unpacks ``archive`` (an open tarfile) into ``folder``; ValueError naming a refused member."""
    members = archive.getmembers()
    for member in members:
        problem = member_problem(member)
        if problem:
            raise ValueError(problem)
        member.mode &= 0o755  # no setuid, setgid or world-writable files (as the data filter)
    # The data filter too where Python has it; the members are already checked where it does not.
    safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
    archive.extractall(folder, members=members, **safe)


def boto3_folder(cache):
    """None when the image has boto3, else a cache folder where pip installed it."""
    try:
        import boto3  # noqa: F401
    except ImportError:
        pass
    else:
        return None
    folder = os.path.join(cache, "boto3")

    def install(staging):
        command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        command += ["--no-warn-script-location", "--target", staging, "boto3"]
        done = subprocess.run(command, stdout=sys.stderr, timeout=900, check=False)
        if done.returncode != 0:
            fail("the image has no boto3 and pip could not install it: add boto3 (or flowc) to the image")

    place(folder, install)
    sys.path.insert(0, folder)
    return folder


def fetch(datastore, key, cache, what="the code package"):
    if not datastore.startswith("s3://"):
        try:
            with open(os.path.join(datastore, key), "rb") as handle:
                return handle.read()
        except OSError as exc:
            fail(f"cannot read {what} {os.path.join(datastore, key)}: {exc}")
    import boto3

    bucket, _, prefix = datastore[5:].partition("/")
    key = prefix.strip("/") + "/" + key if prefix.strip("/") else key
    endpoint = os.environ.get("FLOWC_S3__ENDPOINT_URL") or None
    try:
        return boto3.client("s3", endpoint_url=endpoint).get_object(Bucket=bucket, Key=key)["Body"].read()
    except Exception as exc:
        fail(f"cannot fetch {what} s3://{bucket}/{key}: {exc}")


def main(argv):
    if not argv or argv[0].split(".")[0] != "flowc":
        fail(f"usage: MODULE ARGS... with MODULE a flowc module, got {argv[:1]!r}")
    module, args = argv[0], argv[1:]
    sha = option(args, "--package") or ""
    datastore = option(args, "--datastore") or os.environ.get("FLOWC_DATASTORE") or ""
    if len(sha) != 64 or sha.strip("0123456789abcdef"):
        fail(f"no code package given (--package {sha!r}): deploy the flow with flowc deploy")
    if not datastore:
        fail("no datastore given: pass --datastore URL or set FLOWC_DATASTORE")
    cache = os.environ.get("FLOWC_PACKAGE_CACHE") or os.path.join(
        tempfile.gettempdir(), f"flowc-packages-{os.getuid()}"
    )
    paths = [boto3_folder(cache)] if datastore.startswith("s3://") else []
    package = os.path.join(cache, sha)

    def unpack(staging):
        try:
            tar = package_tar(fetch(datastore, package_key(sha), cache), sha)
        except ValueError as exc:
            fail(f"the code package {sha} in {datastore} is corrupt: {exc}")
        try:
            with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
                extract_package(archive, staging)
        except (ValueError, tarfile.TarError, OSError) as exc:
            fail(f"the code package {sha} cannot be unpacked: {exc}")

    place(package, unpack)
    environ = dict(os.environ)
    inherited = [environ["PYTHONPATH"]] if environ.get("PYTHONPATH") else []
    environ["PYTHONPATH"] = os.pathsep.join([package, *filter(None, paths), *inherited])
    if environ.get("FLOWC_ENVIRONMENT"):  # install.ENVIRONMENT_ENV: the step's @pypi environment
        sys.path.insert(0, package)
        from flowc.environments import install

        try:
            environ = install.enter_deployed(environ, lambda k, w: fetch(datastore, k, cache, w), sha, cache)
        except install.EnvironmentProblem as exc:
            fail(str(exc))
    os.execve(sys.executable, [sys.executable, "-m", module, *args], environ)


if __name__ == "__main__":
    main(sys.argv[1:])
