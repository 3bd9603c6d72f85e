"""Locking without uv (pip's fallback) and a deploy whose environment cannot be locked (issue 17)."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowc.config import load_settings
from flowc.datastore.storage import open_storage
from flowc.environments import resolve
from flowc.environments.deploy import store_code
from flowc.environments.resolve import ResolveError, Sources
from flowc.frontend import build_ir
from flowc.ir import PythonEnvironment
from flowc.package import build_package
from tests.environments.wheels import build_wheelhouse

FLOW = Path(__file__).parent / "flows" / "pypi_versions.py"


def test_pip_resolves_and_downloads_when_uv_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(resolve, "_uv", lambda: None)
    wheels = build_wheelhouse(tmp_path / "wheels")
    environment = PythonEnvironment(("tinypkg==2.0",), None, "pypi-test")
    folder = tmp_path / "download"
    folder.mkdir()
    lock, files = resolve.resolve(
        environment,
        python="3.11",
        platform="linux_x86_64",
        sources=Sources(None, (str(wheels),), True),
        folder=folder,
    )
    assert [(w.name, w.version) for w in lock.wheels] == [("tinypkg", "2.0")]
    assert set(files) == {lock.wheels[0].sha256}


def test_a_deploy_whose_environment_cannot_be_locked_uploads_nothing(tmp_path: Path) -> None:
    flow = tmp_path / "flow.py"
    flow.write_text(FLOW.read_text().replace('"tinypkg": "2.0"', '"tinypkg": "7.0"'), encoding="utf-8")
    wheels = build_wheelhouse(tmp_path / "wheels")
    datastore = str(tmp_path / "datastore")
    settings = load_settings(
        {"datastore": datastore, "pypi.no_index": True, "pypi.find_links": (str(wheels),)}, environ={}
    )
    package = build_package(flow)
    with pytest.raises(ResolveError, match="step second") as raised:
        store_code(open_storage(datastore), package, build_ir(str(flow)), settings)
    assert "tinypkg==7.0" in str(raised.value)
    assert not open_storage(datastore).exists(f"objects/{package.sha[:2]}/{package.sha}")
