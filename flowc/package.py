"""The code package: a deterministic tarball of a flow, the local code it imports, and flowc itself.

With it, any Python image that has the user's own dependencies (numpy, pandas, ...) can run a task:
the task runner (or the fixed bootstrap in :mod:`flowc.task_runner.bootstrap`) fetches the package
from the datastore by hash, unpacks it and imports the flow from there.

What goes in, each file once, under its path relative to the flow's directory:

* the flow file;
* the local modules and packages it imports, found from its ``import`` statements (:mod:`ast`, no
  code runs) and resolved against the flow's directory, then followed transitively; a local
  package goes in whole (its data files too);
* the files matching the configuration's ``package.include`` globs, minus ``package.exclude``;
* flowc's installed source under ``flowc/``, so the image needs no flowc: caches and what a task
  never loads (:data:`NOT_FOR_TASKS`: the compilers, the command line, the UI, the templates) left
  out, and the card assets only for a flow with a ``@card`` step;
* ``FLOWC_IR.json``, the flow's IR as the compiled documents were made from (``--with``
  decorators included): tasks read it instead of running the front end, and refuse it when its
  digest is not the one their command carries (``--ir``, :meth:`flowc.ir.FlowIR.digest`);
* ``FLOWC_PACKAGE.json``, a manifest naming the flow file and the IR.

Deterministic: entries sorted, mtime 0, uid/gid 0, no user or group names, mode 0644, a POSIX
tar. The same sources give the same tar and so the same SHA-256, wherever and whenever they are
packaged: that hash names the package (``--package SHA``). The datastore holds the tar
gzip-compressed (mtime 0, no file name; a one-file flow's package is ~180 KB instead of ~720 KB)
at ``packages/<sha>/code.tar.gz`` (:func:`flowc.datastore.layout.package_key`). Compressed bytes
may differ between zlib builds, so every reader decompresses and checks the hash of the tar
(:func:`flowc.task_runner.bootstrap_program.package_tar`); an unchanged package is uploaded once.
"""

from __future__ import annotations

import ast
import fnmatch
import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flowc.ir import FlowIR

__all__ = [
    "CARDS",
    "DEFAULT_EXCLUDE",
    "INCLUDE_SNAPSHOTS",
    "IR_NAME",
    "MANIFEST_NAME",
    "NOT_FOR_TASKS",
    "CodePackage",
    "PackageError",
    "build_package",
    "include_file_path",
    "local_imports",
    "package_url",
    "store_package",
]

#: Name of the manifest inside every package.
MANIFEST_NAME = "FLOWC_PACKAGE.json"
#: Name of the flow's IR (``FlowIR.to_json()``) inside every package.
IR_NAME = "FLOWC_IR.json"
#: Folder of the package holding each ``IncludeFile`` default's content, read when the package is
#: built (deploy time, as Metaflow snapshots it for deployed runs): ``FLOWC_INCLUDE/<parameter>``.
INCLUDE_SNAPSHOTS = "FLOWC_INCLUDE"
#: Format of the manifest; bump when the package layout changes (2: the IR is in the package).
PACKAGE_FORMAT = 2
#: Never packaged: caches, version control, virtual environments, local datastores.
DEFAULT_EXCLUDE = (
    "__pycache__",
    "*.pyc",
    "*.pyo",
    ".git",
    ".hg",
    ".venv",
    "venv",
    ".tox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".flowc",
    "*.egg-info",
    ".DS_Store",
)


class PackageError(ValueError):
    """The flow cannot be packaged (missing file, a path outside the flow's directory, ...)."""


@dataclass(frozen=True)
class CodePackage:
    """A built package: its tar, the tar's SHA-256, the bytes stored and what is inside.

    Attributes:
        sha: hex SHA-256 of ``tar`` (the package's name: ``--package SHA``).
        tar: the tar archive (deterministic).
        stored: ``tar`` gzip-compressed, as the datastore holds it.
        flow_file: path of the flow file inside the package.
        files: every archive path, sorted (the manifest included).
    """

    sha: str
    tar: bytes
    stored: bytes
    flow_file: str
    files: tuple[str, ...]

    @property
    def size(self) -> int:
        """Bytes stored (and uploaded): the compressed size."""
        return len(self.stored)


# ---- finding what to package ---------------------------------------------------------------------
def _source_text(path: Path) -> str:
    """A Python file's text; :class:`PackageError` when it cannot be read or is not UTF-8 (PEP 3120)."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise PackageError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise PackageError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _imported_top_levels(source: str, filename: str) -> set[str]:
    """First name of every absolute import in ``source`` (``import a.b`` and ``from a.b import c``: ``a``).

    Relative imports only occur inside packages, and a local package is packaged whole.
    """
    try:
        tree = ast.parse(source, filename)
    except SyntaxError as exc:
        raise PackageError(f"{filename}: cannot parse: {exc}") from exc
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _local_target(root: Path, name: str) -> Path | None:
    """The module file or package folder directly under ``root`` that ``import name`` finds first.

    The flow's directory is the first entry of ``sys.path`` when the flow runs, so a local module
    shadows an installed one of the same name. Python's own order within one folder: a package
    (``name/__init__.py``), then a module (``name.py``), and only then a folder without
    ``__init__.py`` (a namespace package; it counts when it holds Python files), see
    https://docs.python.org/3/reference/import.html#regular-packages. flowc is packaged from its
    installed source instead.
    """
    if name == "flowc":
        return None
    folder = root / name
    if (folder / "__init__.py").is_file():
        return folder
    module = root / f"{name}.py"
    if module.is_file():
        return module
    if folder.is_dir() and any(folder.rglob("*.py")):
        return folder
    return None


def local_imports(flow_file: Path) -> list[Path]:
    """Local modules (``.py`` files) and package directories the flow imports, transitively, sorted.

    Only code under the flow's directory counts; the standard library, installed packages and flowc
    are left to the image (flowc is packaged separately).
    """
    flow_file = flow_file.resolve()
    root = flow_file.parent
    found: set[Path] = set()
    queue = [flow_file]
    scanned: set[Path] = set()
    while queue:
        module = queue.pop()
        if module in scanned:
            continue
        scanned.add(module)
        source = _source_text(module)
        for name in sorted(_imported_top_levels(source, str(module))):
            target = _local_target(root, name)
            if target is None or target == flow_file or target in found:
                continue
            found.add(target)
            queue.extend(sorted(target.rglob("*.py")) if target.is_dir() else [target])
    return sorted(found)


def _excluded(relative: PurePosixPath, patterns: Sequence[str]) -> bool:
    """True if the path or any of its parent folders matches one of ``patterns``."""
    text = relative.as_posix()
    for pattern in patterns:
        if fnmatch.fnmatchcase(text, pattern):
            return True
        if any(fnmatch.fnmatchcase(part, pattern) for part in relative.parts):
            return True
        if any(fnmatch.fnmatchcase(parent.as_posix(), pattern) for parent in relative.parents):
            return True
    return False


def _glob(root: Path, pattern: str) -> list[Path]:
    """What ``package.include`` pattern ``pattern`` matches under ``root``, sorted."""
    try:
        return sorted(root.glob(pattern))
    except (ValueError, NotImplementedError) as exc:  # "", "/abs/*": pathlib refuses them
        raise PackageError(
            f"package.include {pattern!r}: not a glob relative to the flow's directory ({exc})"
        ) from None


def _inside(path: Path, root: Path, pattern: str) -> PurePosixPath:
    """``path`` relative to ``root``, as the package names it; refuses paths that leave ``root``.

    The name is the path as found (a symbolic link keeps its own name; its target's bytes go in),
    so nothing of where the files really live on this machine reaches the package.
    """
    try:
        relative = PurePosixPath(path.relative_to(root).as_posix())
    except ValueError:
        relative = None
    if relative is None or ".." in relative.parts:
        raise PackageError(
            f"package.include {pattern!r} matches {path}, outside the flow's directory {root}: "
            "only files under it can be packaged (move the file there, or the flow up)"
        )
    return relative


def _files_under(folder: Path, root: Path, exclude: Sequence[str]) -> Iterable[tuple[str, Path]]:
    for path in sorted(folder.rglob("*")):
        relative = PurePosixPath(path.relative_to(root).as_posix())
        if path.is_file() and not _excluded(relative, exclude):
            yield relative.as_posix(), path


def _flowc_source() -> Path:
    import flowc

    return Path(flowc.__file__).resolve().parent


# ---- building ------------------------------------------------------------------------------------
def _settings_patterns(settings: Any, key: str) -> tuple[str, ...]:
    if settings is None:
        return ()
    value = settings.get(key) or ()
    return (value,) if isinstance(value, str) else tuple(value)


def build_package(
    flow_file: str | Path,
    *,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    settings: Any = None,
    cards: bool | None = None,
    ir: FlowIR | None = None,
) -> CodePackage:
    """Builds the code package of ``flow_file`` in memory.

    Args:
        flow_file: the flow's source file.
        include: extra globs, relative to the flow's directory (added to ``package.include``).
        exclude: globs left out of the user's files (added to ``package.exclude`` and
            :data:`DEFAULT_EXCLUDE`); a pattern matches a path, a file name or a folder.
        settings: a :class:`flowc.config.Settings` for ``package.include``/``package.exclude``
            (default: loaded from the flow's directory).
        cards: whether the flow has a ``@card`` step; only then does the package carry the card
            assets (Vega, ~280 KB gzipped). Default: read from the flow's IR.
        ir: the IR the documents are compiled from (``--with`` decorators applied), shipped as
            :data:`IR_NAME`; default: the front end's IR of ``flow_file``.

    Raises:
        PackageError: the flow file is missing, cannot be parsed or is refused by the front end.
    """
    flow_path = Path(flow_file).resolve()
    if not flow_path.is_file():
        raise PackageError(f"no flow file at {flow_file}")
    if not _source_text(flow_path).strip():
        raise PackageError(f"{flow_file} is empty: there is no flow to package")
    root = flow_path.parent
    if ir is None:
        ir = _front_end_ir(flow_path)
    if settings is None:
        from flowc.config import load_settings

        settings = load_settings(start=root)
    include = (*_settings_patterns(settings, "package.include"), *include)
    exclude = (*DEFAULT_EXCLUDE, *_settings_patterns(settings, "package.exclude"), *exclude)

    entries: dict[str, Path] = {flow_path.name: flow_path}
    for target in local_imports(flow_path):
        if target.is_dir():
            entries.update(_files_under(target, root, exclude))
        else:
            relative = PurePosixPath(target.relative_to(root).as_posix())
            if not _excluded(relative, exclude):
                entries[relative.as_posix()] = target
    for pattern in include:
        for path in _glob(root, pattern):
            relative = _inside(path, root, pattern)
            if path.is_dir():
                entries.update(_files_under(path, root, exclude))
            elif path.is_file() and not _excluded(relative, exclude):
                entries[relative.as_posix()] = path
    # flowc itself, whatever the user's patterns say: the task runner must be there.
    flowc_dir = _flowc_source()
    if cards is None:
        from flowc.cards.decorator import flow_has_cards

        cards = flow_has_cards(ir)
    for name, path in _files_under(flowc_dir, flowc_dir.parent, DEFAULT_EXCLUDE):
        if not name.startswith(NOT_FOR_TASKS) and (cards or not name.startswith(CARD_ASSETS)):
            entries[name] = path

    manifest = {"format": PACKAGE_FORMAT, "flow_file": flow_path.name, "ir": IR_NAME}
    payload: dict[str, bytes] = {name: path.read_bytes() for name, path in entries.items()}
    payload[MANIFEST_NAME] = (json.dumps(manifest, sort_keys=True) + "\n").encode()
    payload[IR_NAME] = ir.to_json().encode("utf-8")
    payload.update(_include_file_snapshots(ir, flow_path))
    tar = _tar(payload)
    return CodePackage(
        sha=hashlib.sha256(tar).hexdigest(),
        tar=tar,
        stored=gzip.compress(tar, mtime=0),  # gzip.compress writes no file name
        flow_file=flow_path.name,
        files=tuple(sorted(payload)),
    )


#: Cards (flowc/cards/: the renderer, its components and the client's card reading).
CARDS = "flowc/cards/"
#: Card assets (flowc/cards/assets/: the Vega scripts, ~300 KB): packaged only for a flow with a
#: @card step, the only tasks that render charts. The card code (~90 KB) is in every package: any
#: step may read a card with the client (``Task.cards``) or import ``flowc.cards``.
CARD_ASSETS = f"{CARDS}assets/"
#: Parts of flowc a task never loads, left out of every package (a task runs a compiled document:
#: it neither compiles, deploys, serves the UI, schedules a local run, launches runs (``Runner``,
#: ``Deployer``) nor parses a command line other than the task runner's). Argo's schema and linter
#: alone were 44% of a one-file flow's package (issue 13). Of the local runtime, tasks import only
#: :mod:`flowc.runtime.plan`, :mod:`~flowc.runtime.resume` (cloning a task) and
#: :mod:`~flowc.runtime.records` (``liveness``); ``python -X importtime`` on a packaged task shows it.
#: Of the client, following a run's logs (``flowc logs --follow``, ``--wait``) is the command line's.
NOT_FOR_TASKS = (
    "flowc/__main__.py",
    "flowc/backends/",
    "flowc/cli/",
    "flowc/client/follow.py",
    "flowc/frontend/",
    "flowc/ui/",
    "flowc/templates/",
    "flowc/runner_api.py",
    "flowc/deployer_api.py",
    "flowc/environments/deploy.py",
    "flowc/runtime/cli_common.py",
    "flowc/runtime/display.py",
    "flowc/runtime/executor.py",
    "flowc/runtime/launch.py",
    "flowc/runtime/parameter_options.py",
    "flowc/runtime/scheduler.py",
)


def _front_end_ir(flow_path: Path) -> FlowIR:
    """The flow's IR; a flow the front end refuses cannot be packaged (one line, the first
    diagnostic: ``flowc check`` lists them all)."""
    from flowc.frontend import CompileError, build_ir

    try:
        return build_ir(str(flow_path))
    except CompileError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "refused by the front end"
        raise PackageError(f"{flow_path.name}: {first}") from None


def _tar(files: dict[str, bytes]) -> bytes:
    """An uncompressed tar of ``files`` with every varying field fixed."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name in sorted(files):
            content = files[name]
            info = tarfile.TarInfo(name)
            info.size = len(content)
            info.mtime = 0
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.type = tarfile.REGTYPE
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


# ---- storing -------------------------------------------------------------------------------------
def package_url(storage_url: str, sha: str) -> str:
    """Where package ``sha`` lives in the datastore at ``storage_url``."""
    from flowc.datastore.layout import package_key

    return f"{storage_url.rstrip('/')}/{package_key(sha)}"


def store_package(storage: Any, package: CodePackage) -> str:
    """Stores ``package`` in ``storage`` unless an intact copy is there; returns its URL.

    A copy is intact when its tar hashes to the package's name, whatever zlib compressed it; a
    damaged copy is replaced, so deploying again repairs it.
    """
    from flowc.datastore.layout import package_key
    from flowc.datastore.storage import NotFound
    from flowc.task_runner.bootstrap_program import package_tar

    key = package_key(package.sha)
    try:
        package_tar(bytes(storage.read(key)), package.sha)
    except (NotFound, ValueError):
        storage.write(key, package.stored)
    return package_url(storage.url, package.sha)


def _include_file_snapshots(ir: FlowIR, flow_path: Path) -> dict[str, bytes]:
    """``{FLOWC_INCLUDE/<parameter>: content}`` of the flow's ``IncludeFile`` defaults, read now.

    The path is read as Metaflow reads it, relative to the working directory (then to the flow's
    folder); a default that cannot be read is an error here rather than in every scheduled run.
    """
    snapshots = {}
    for spec in ir.parameters:
        if not (spec.is_file and spec.deferred_default and isinstance(spec.default, str)):
            continue
        found = include_file_path(spec.default, flow_path.parent)
        if found is None:
            raise PackageError(
                f"IncludeFile {spec.name!r}: its default {spec.default!r} is not a readable file "
                f"(looked in {Path.cwd()} and {flow_path.parent})"
            )
        snapshots[f"{INCLUDE_SNAPSHOTS}/{spec.name}"] = found.read_bytes()
    return snapshots


def include_file_path(default: str, flow_folder: Path) -> Path | None:
    """Where an ``IncludeFile``'s default path is: as given (relative to the working directory, as
    Metaflow reads it), else relative to the flow's folder; None when neither is a file."""
    path = Path(default).expanduser()
    for candidate in (path, flow_folder / path):
        if candidate.is_file():
            return candidate
    return None
