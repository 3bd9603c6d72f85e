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


def test_an_unknown_key_names_the_file_and_the_likely_key(tmp_path):
    (tmp_path / "flowc.toml").write_text("[s3]\nretry_secnods = 5\n")
    nested = tmp_path / "sub"
    nested.mkdir()
    with pytest.raises(ConfigError) as error:
        load_settings(environ={}, start=nested)
    message = str(error.value)
    assert "'s3.retry_secnods'" in message
    assert str(tmp_path / "flowc.toml") in message
    assert "did you mean 's3.retry_seconds'?" in message
    (tmp_path / "flowc.toml").unlink()
    (tmp_path / "pyproject.toml").write_text("[tool.flowc]\nimgae = 'x'\n")
    with pytest.raises(ConfigError, match=r"'imgae' in .*pyproject\.toml; did you mean 'image'"):
        load_settings(environ={}, start=nested)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('[s3]\nretry_seconds = "soon"', "s3.retry_seconds = 'soon': expected a number"),
        ("[s3]\nread_timeout = -1", "s3.read_timeout = -1: expected a number >= 0"),
        ("[s3]\nmax_concurrency = 2.5", "s3.max_concurrency = 2.5: expected a whole number"),
        ("[s3]\nmax_concurrency = true", "s3.max_concurrency = True: expected a whole number"),
        ('[project]\nproduction = "yes"', "project.production = 'yes': expected true or false"),
        ("[kubernetes]\nnamespace = 5", "kubernetes.namespace = 5: expected a string"),
        ("[package]\ninclude = [1]", "package.include = [1]: expected a string or a list of strings"),
    ],
)
def test_a_value_of_the_wrong_type_in_the_project_file_is_refused(tmp_path, line, expected):
    (tmp_path / "flowc.toml").write_text(line + "\n")
    with pytest.raises(ConfigError) as error:
        load_settings(environ={}, start=tmp_path)
    assert str(error.value) == f"{tmp_path / 'flowc.toml'}: {expected}"


def test_file_values_take_the_key_type(tmp_path):
    (tmp_path / "flowc.toml").write_text('[s3]\nretry_seconds = 5\n[package]\ninclude = "data/*"\n')
    settings = load_settings(environ={}, start=tmp_path)
    assert settings["s3.retry_seconds"] == 5.0 and isinstance(settings["s3.retry_seconds"], float)
    assert settings["package.include"] == ("data/*",)


def test_negative_or_nan_numbers_from_the_environment_are_refused(tmp_path):
    for value in ("-3", "nan"):
        with pytest.raises(ConfigError, match=r"FLOWC_S3__CONNECT_TIMEOUT=.*expected a number >= 0"):
            load_settings(environ={"FLOWC_S3__CONNECT_TIMEOUT": value}, start=tmp_path)


def test_a_tool_flowc_that_is_not_a_table_is_refused(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool]\nflowc = "s3://x"\n')
    with pytest.raises(ConfigError, match=r"pyproject\.toml: \[tool\.flowc\] must be a table"):
        load_settings(environ={}, start=tmp_path)


def test_config_show_reports_a_bad_project_file_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "flowc.toml").write_text('[s3]\nconnect_timeout = "5s"\n')
    assert main(["config", "show"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "s3.connect_timeout = '5s': expected a number" in err and "flowc.toml" in err


def test_secrets_reach_neither_compiled_documents_nor_run_logs(tmp_path, monkeypatch, capsys):
    from pathlib import Path

    flow = Path(__file__).parents[1] / "conformance" / "flows" / "linear_flow.py"
    secrets = {
        "FLOWC_KUBERNETES__TOKEN": "k8s-secret-7f3a",
        "FLOWC_AIRFLOW__TOKEN": "airflow-secret-91c2",
        "AWS_SECRET_ACCESS_KEY": "aws-secret-5d0e",
        "FLOWC_NOTIFY__WEBHOOK_URL": "http://127.0.0.1:9/hook-secret-2b6e",
        "FLOWC_NOTIFY__SLACK_WEBHOOK_URL": "https://hooks.slack.invalid/slack-secret-8a1d",
    }
    assert {name for name, key in KEYS.items() if key.secret} == {
        "kubernetes.token",
        "airflow.token",
        "notify.webhook_url",
        "notify.slack_webhook_url",
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    for target in ("argo", "sfn", "airflow"):
        out = tmp_path / target
        assert (
            main(["compile", str(flow), "--target", target, "--datastore", "s3://b/p", "-o", f"{out}/"]) == 0
        )
    assert main(["run", str(flow), "--datastore", str(tmp_path / "ds")]) == 0
    written = [path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()]
    assert len(written) > 5
    console = capsys.readouterr()
    for value in secrets.values():
        assert not any(value.encode() in data for data in written), value
        assert value not in console.out + console.err
