"""Configuration precedence (CLI > environment > project file > default) and ``flowc config show``."""

from __future__ import annotations

import json

import pytest

from flowc.cli import main
from flowc.config import KEYS, ConfigError, load_settings


def test_defaults_when_nothing_is_set(tmp_path):
    settings = load_settings(environ={}, start=tmp_path)
    assert settings["kubernetes.namespace"] == "default"
    assert settings.source("kubernetes.namespace") == "default"
    assert settings["s3.retry_seconds"] == 30.0


def test_pyproject_tool_flowc_then_environment_then_cli(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.flowc]\ndatastore = "s3://from-file/p"\n'
        '[tool.flowc.kubernetes]\nnamespace = "file-ns"\nservice_account = "file-sa"\n'
    )
    nested = tmp_path / "sub" / "dir"
    nested.mkdir(parents=True)
    settings = load_settings(environ={}, start=nested)  # found in a parent folder
    assert settings["datastore"] == "s3://from-file/p"
    assert settings.source("kubernetes.namespace") == "pyproject.toml [tool.flowc]"
    environ = {"FLOWC_KUBERNETES__NAMESPACE": "env-ns", "FLOWC_DATASTORE": "s3://from-env/p"}
    settings = load_settings(environ=environ, start=nested)
    assert (settings["kubernetes.namespace"], settings.source("kubernetes.namespace")) == (
        "env-ns",
        "env FLOWC_KUBERNETES__NAMESPACE",
    )
    assert settings["kubernetes.service_account"] == "file-sa"
    settings = load_settings({"datastore": "s3://from-cli/p", "image": None}, environ=environ, start=nested)
    assert (settings["datastore"], settings.source("datastore")) == ("s3://from-cli/p", "cli")
    assert settings.source("image") == "default"  # an unset flag overrides nothing


def test_flowc_toml_wins_over_pyproject_in_the_same_folder(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.flowc]\nimage = "from-pyproject"\n')
    (tmp_path / "flowc.toml").write_text('image = "from-flowc-toml"\n[s3]\nendpoint_url = "http://x:1"\n')
    settings = load_settings(environ={}, start=tmp_path)
    assert (settings["image"], settings.source("image")) == ("from-flowc-toml", "flowc.toml")
    assert settings["s3.endpoint_url"] == "http://x:1"


def test_environment_values_take_the_type_of_the_default(tmp_path):
    environ = {
        "FLOWC_SFN__DISTRIBUTED_MAP_THRESHOLD": "50",
        "FLOWC_S3__RETRY_SECONDS": "2.5",
        "FLOWC_PROJECT__PRODUCTION": "yes",
        "FLOWC_PACKAGE__EXCLUDE": "*.csv,data",
    }
    settings = load_settings(environ=environ, start=tmp_path)
    assert settings["sfn.distributed_map_threshold"] == 50
    assert settings["s3.retry_seconds"] == 2.5
    assert settings["project.production"] is True
    assert settings["package.exclude"] == ("*.csv", "data")
    for name, value in [("FLOWC_S3__RETRY_SECONDS", "soon"), ("FLOWC_PROJECT__PRODUCTION", "maybe")]:
        with pytest.raises(ConfigError, match=name):
            load_settings(environ={name: value}, start=tmp_path)


def test_unknown_keys_are_refused(tmp_path):
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "flowc.toml").write_text("[kubernetes]\nnamespcae = 'typo'\n")
    with pytest.raises(ConfigError, match="namespcae"):
        load_settings(environ={}, start=tmp_path / "project")
    with pytest.raises(ConfigError, match=r"no\.such"):
        load_settings({"no.such": 1}, environ={}, start=tmp_path)


def test_config_show_prints_every_key_value_and_source(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "flowc.toml").write_text('[kubernetes]\nnamespace = "file-ns"\n')
    monkeypatch.setenv("FLOWC_IMAGE", "env/image:1")
    assert (
        main(["config", "show", "--set", "batch.job_queue=cli-queue", "--set", "s3.max_concurrency=4"]) == 0
    )
    lines = {line.split()[0]: line.split()[1:] for line in capsys.readouterr().out.splitlines()}
    assert set(lines) == set(KEYS)
    assert lines["kubernetes.namespace"] == ["file-ns", "flowc.toml"]
    assert lines["image"] == ["env/image:1", "env", "FLOWC_IMAGE"]
    assert lines["batch.job_queue"] == ["cli-queue", "cli"]
    assert lines["s3.max_concurrency"] == ["4", "cli"]
    assert lines["airflow.operator"] == ["local", "default"]


def test_config_show_never_prints_secrets(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FLOWC_KUBERNETES__TOKEN", "s3cr3t-token")
    monkeypatch.setenv("FLOWC_S3__ENDPOINT_URL", "https://user:pa55word@minio.example:9000")
    assert main(["config", "show"]) == 0
    assert main(["config", "show", "--json"]) == 0
    out = capsys.readouterr().out
    assert "s3cr3t-token" not in out and "pa55word" not in out
    document = json.loads(out[out.index("{") :])
    assert document["kubernetes.token"] == {"value": "******", "source": "env FLOWC_KUBERNETES__TOKEN"}
    assert document["s3.endpoint_url"]["value"] == "https://user:******@minio.example:9000"


def test_config_show_reports_bad_configuration(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["config", "show", "--set", "nonsense"]) == 2
    assert main(["config", "show", "--set", "s3.max_concurrency=many"]) == 2
    assert "expected a whole number" in capsys.readouterr().err
