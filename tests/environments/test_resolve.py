"""Locking without uv (pip's fallback) and a deploy whose environment cannot be locked (issue 17)."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowc.config import load_settings
from flowc.datastore.layout import package_key
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
    assert not open_storage(datastore).exists(package_key(package.sha))


def test_flowc_deploy_of_an_unresolvable_spec_fails_naming_step_and_package(tmp_path: Path) -> None:
    """The CLI, as a user deploys: one line naming the step and the requirement, nothing written."""
    import os
    import subprocess
    import sys

    from tests.environments.wheels import write_settings

    write_settings(tmp_path, build_wheelhouse(tmp_path / "wheels"))
    flow = tmp_path / "flow.py"
    flow.write_text(FLOW.read_text().replace('"tinypkg": "2.0"', '"tinypkg": "7.0"'), encoding="utf-8")
    dags, datastore = tmp_path / "dags", tmp_path / "datastore"
    argv = [
        "deploy",
        "flow.py",
        "--target",
        "airflow",
        "--dags-folder",
        str(dags),
        "--datastore",
        str(datastore),
    ]
    done = subprocess.run(
        [sys.executable, "-m", "flowc", *argv], cwd=tmp_path, capture_output=True, text=True,
        env={**os.environ, "FLOWC_PACKAGE_CACHE": str(tmp_path / "cache")},
    )  # fmt: skip
    assert done.returncode != 0
    assert "step second" in done.stderr and "tinypkg==7.0" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not dags.exists() and not (datastore / "packages").exists()


def test_a_lock_is_made_for_the_target_platform(tmp_path: Path) -> None:
    """`flowc env resolve --platform`: a deploy locks for setting pypi.platform (linux_x86_64 by
    default), not for the machine deploying; each platform gets its own wheel."""
    import json
    import os
    import subprocess
    import sys

    from tests.environments.wheels import build_platform_wheels, write_settings

    write_settings(tmp_path, build_platform_wheels(tmp_path / "wheels"))
    (tmp_path / "flow.py").write_text(
        "from flowc import FlowSpec, pypi, step\n\n\nclass NativeFlow(FlowSpec):\n"
        "    @pypi(packages={'tinynative': '1.0'})\n    @step\n    def start(self):\n"
        "        self.next(self.end)\n\n    @step\n    def end(self):\n        pass\n",
        encoding="utf-8",
    )

    def resolve(*options: str) -> dict:
        done = subprocess.run(
            [sys.executable, "-m", "flowc", "env", "resolve", "flow.py", "--json", *options],
            cwd=tmp_path, capture_output=True, text=True,
            env={**os.environ, "FLOWC_PACKAGE_CACHE": str(tmp_path / "cache")},
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        (row,) = json.loads(done.stdout)
        return row["lock"]

    arm = resolve("--platform", "linux_aarch64")
    assert arm["platform"] == "linux_aarch64" and arm["wheels"][0]["file"].endswith("_aarch64.whl")
    deployed = resolve("--platform", "deployed")
    assert deployed["platform"] == "linux_x86_64" and deployed["wheels"][0]["file"].endswith("_x86_64.whl")
    assert arm["wheels"][0]["sha256"] != deployed["wheels"][0]["sha256"]
