"""Metaflow's ``Config`` / ``config_expr`` (issue 18: the BasicConfigTest cases of its core suite).

A config's value is fixed once, where the flow is run, compiled or deployed (``--config NAME
PATH``, ``--config-value NAME VALUE``, Metaflow's ``METAFLOW_FLOW_CONFIG(_VALUE)``, the default
file or value), used in decorator arguments and parameter defaults, and read by steps as an
immutable artifact; every task gets the same values (``FLOWC_CONFIGS``), on every target.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from flowc.client import Run
from flowc.frontend import build_ir
from flowc.frontend.configs import FIXED_ENV
from tests.conformance.matrix import REPO_ROOT

FLOW = """
    import os

    from flowc import Config, FlowSpec, Parameter, config_expr, environment, project, retry, step


    def lines(text):
        return dict(line.split(": ", 1) for line in text.splitlines() if line)


    def rows_plus_one(ctx):
        return ctx.configs.settings.rows + 1


    @project(name=config_expr("settings").project)
    class ConfiguredFlow(FlowSpec):
        settings = Config("settings", default="settings.json")
        labels = Config("labels", default_value="colour: blue", parser=lines)
        rows = Parameter("rows", type=int, default=config_expr("settings").rows)
        more_rows = Parameter("more_rows", type=int, default=rows_plus_one)

        @retry(times=settings.retries, minutes_between_retries=0)
        @environment(vars={"GREETING": settings.greeting, "LOUD": config_expr("settings.greeting.upper()")})
        @step
        def start(self):
            self.seen = [os.environ["GREETING"], os.environ["LOUD"], self.rows, self.more_rows,
                         self.labels.colour, self.settings["rows"]]
            try:
                self.settings.rows = 0
            except TypeError as exc:
                self.refused = str(exc)
            self.next(self.end)

        @environment(**settings.end)
        @step
        def end(self):
            self.end_env = os.environ.get("END")


    if __name__ == "__main__":
        ConfiguredFlow()
    """

SETTINGS = {"greeting": "hello", "rows": 3, "retries": 4, "project": "shop", "end": {"vars": {"END": "yes"}}}


def _flow(tmp_path: Path, settings: dict | None = None) -> Path:
    path = tmp_path / "configured_flow.py"
    path.write_text(textwrap.dedent(FLOW), encoding="utf-8")
    (tmp_path / "settings.json").write_text(json.dumps(settings or SETTINGS), encoding="utf-8")
    return path


def _flowc(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    child = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWC_", "METAFLOW_"))}
    child["PYTHONPATH"] = str(REPO_ROOT)
    child.update(env or {})
    return subprocess.run(
        [sys.executable, *argv], capture_output=True, text=True, env=child, cwd=cwd, timeout=300, check=False
    )


def _run_id(tmp_path: Path) -> str:
    return (tmp_path / "run-id").read_text().strip()


@pytest.mark.parametrize("executor", ["fork", "subprocess"])
def test_run_reads_the_default_file_and_configs_reach_decorators_parameters_and_steps(
    tmp_path: Path, executor: str
) -> None:
    _flow(tmp_path)
    done = _flowc(
        [
            "-m",
            "flowc",
            "run",
            "configured_flow.py",
            "--datastore",
            "ds",
            "--run-id-file",
            "run-id",
            "--executor",
            executor,
        ],
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    run = Run(f"ConfiguredFlow/{_run_id(tmp_path)}", datastore=str(tmp_path / "ds"))
    start = run["start"].task.data
    assert start.seen == ["hello", "HELLO", 3, 4, "blue", 3]
    assert start.refused == "ConfigValue is immutable"
    assert run["end"].task.data.end_env == "yes"
    assert run["end"].task.data.settings == SETTINGS  # an artifact of every step, as in Metaflow
    assert run["end"].task.data.settings.end.vars.END == "yes"
    assert "project:shop" in run.system_tags


def test_config_and_config_value_options_win_over_the_defaults(tmp_path: Path) -> None:
    _flow(tmp_path)
    (tmp_path / "other.json").write_text(json.dumps({**SETTINGS, "greeting": "bonjour", "rows": 7}))
    done = _flowc(
        [
            "-m",
            "flowc",
            "run",
            "configured_flow.py",
            "--datastore",
            "ds",
            "--run-id-file",
            "run-id",
            "--config",
            "settings",
            "other.json",
            "--config-value",
            "labels",
            "colour: red",
        ],
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    seen = Run(f"ConfiguredFlow/{_run_id(tmp_path)}", datastore=str(tmp_path / "ds"))["start"].task.data.seen
    assert seen == ["bonjour", "BONJOUR", 7, 8, "red", 7]


def test_metaflow_forms_top_level_option_and_environment(tmp_path: Path) -> None:
    _flow(tmp_path)
    env = {"METAFLOW_FLOW_CONFIG_VALUE": json.dumps({"settings": {**SETTINGS, "greeting": "hallo"}})}
    done = _flowc(
        [
            "configured_flow.py",
            "--config-value",
            "labels",
            "colour: green",
            "run",
            "--datastore",
            "ds",
            "--run-id-file",
            "run-id",
        ],
        tmp_path,
        env,
    )
    assert done.returncode == 0, done.stderr
    seen = Run(f"ConfiguredFlow/{_run_id(tmp_path)}", datastore=str(tmp_path / "ds"))["start"].task.data.seen
    assert seen[:2] == ["hallo", "HALLO"]
    assert seen[4] == "green"


def test_compile_fixes_the_values_in_the_document(tmp_path: Path) -> None:
    _flow(tmp_path)
    argv = [
        "-m",
        "flowc",
        "compile",
        "configured_flow.py",
        "--target",
        "argo",
        "--datastore",
        "s3://b/p",
        "--config-value",
        "settings",
        json.dumps({**SETTINGS, "retries": 6}),
    ]
    first, second = _flowc(argv, tmp_path), _flowc(argv, tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout  # deterministic
    text = first.stdout
    start = next(t for d in yaml.safe_load_all(text) for t in d["spec"]["templates"] if t["name"] == "start")
    assert start["retryStrategy"]["limit"] == 6
    env = {e["name"]: e.get("value") for e in start["container"]["env"]}
    assert json.loads(env[FIXED_ENV])["settings"]["retries"] == 6
    assert env["GREETING"] == "hello"
    # The file changing after compile changes nothing in what was compiled.
    (tmp_path / "settings.json").write_text(json.dumps({**SETTINGS, "greeting": "changed"}))
    assert _flowc(argv, tmp_path).stdout == text


def test_airflow_and_step_functions_tasks_get_the_values(tmp_path: Path) -> None:
    from flowc.backends.sfn.deploy import job_definition_requests
    from flowc.config import load_settings

    path = _flow(tmp_path)
    dag = _flowc(
        [
            "-m",
            "flowc",
            "compile",
            "configured_flow.py",
            "--target",
            "airflow",
            "--datastore",
            "s3://b/p",
            "--config-value",
            "labels",
            "colour: grey",
        ],
        tmp_path,
    )
    assert dag.returncode == 0, dag.stderr
    assert FIXED_ENV in dag.stdout and "grey" in dag.stdout
    assert "retries=4" in dag.stdout
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        ir = build_ir(path)
    finally:
        os.chdir(cwd)
    requests = job_definition_requests(ir, load_settings({"datastore": "s3://b/p"}, environ={}))
    env = {e["name"]: e["value"] for e in requests[0]["containerProperties"]["environment"]}
    assert json.loads(env[FIXED_ENV]) == {"settings": SETTINGS, "labels": {"colour": "blue"}}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            "settings.json",
            "default configuration file 'settings.json' could not be read for config 'settings'",
        ),
        ("bad-json", "config 'settings': the value is not valid JSON"),
        ("bad-key", "@retry: a config expression cannot be evaluated: AttributeError: retries"),
    ],
)
def test_a_config_that_cannot_be_honoured_is_refused_at_check_time(
    tmp_path: Path, change: str, message: str
) -> None:
    _flow(tmp_path)
    if change == "settings.json":
        (tmp_path / "settings.json").unlink()
    elif change == "bad-json":
        (tmp_path / "settings.json").write_text("{not json")
    else:
        (tmp_path / "settings.json").write_text(
            json.dumps({k: v for k, v in SETTINGS.items() if k != "retries"})
        )
    for command in (["check"], ["compile", "--target", "argo"], ["run"]):
        done = _flowc(["-m", "flowc", *command[:1], "configured_flow.py", *command[1:]], tmp_path)
        assert done.returncode != 0, command
        assert message in done.stderr, done.stderr
        assert "configured_flow.py:" in done.stderr and "Traceback" not in done.stderr


def test_a_required_config_without_a_value(tmp_path: Path) -> None:
    path = tmp_path / "required_flow.py"
    path.write_text(
        textwrap.dedent("""
        from flowc import Config, FlowSpec, step

        class RequiredFlow(FlowSpec):
            needed = Config("needed", required=True)

            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
        """),
        encoding="utf-8",
    )
    done = _flowc(["-m", "flowc", "check", "required_flow.py"], tmp_path)
    assert done.returncode == 1
    assert "required_flow.py:5: missing configuration for 'needed'" in done.stderr
    assert "--config NAME PATH" in done.stderr
    ok = _flowc(["-m", "flowc", "check", "required_flow.py", "--config-value", "needed", "[1, 2]"], tmp_path)
    assert ok.returncode == 0, ok.stderr


def test_a_flow_without_configs_keeps_its_parameter_named_config(tmp_path: Path) -> None:
    path = tmp_path / "param_flow.py"
    path.write_text(
        textwrap.dedent("""
        from flowc import Config, FlowSpec, Parameter, step

        class ParamFlow(FlowSpec):
            config = Parameter("config", default="x")
            SETTINGS = None

            @step
            def start(self):
                self.seen = self.config
                self.next(self.end)

            @step
            def end(self):
                pass
        """),
        encoding="utf-8",
    )
    done = _flowc(
        [
            "-m",
            "flowc",
            "run",
            "param_flow.py",
            "--datastore",
            "ds",
            "--run-id-file",
            "run-id",
            "--config",
            "y",
        ],
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert (
        Run(f"ParamFlow/{_run_id(tmp_path)}", datastore=str(tmp_path / "ds"))["start"].task.data.seen == "y"
    )
    # With a Config too, the name belongs to the command line.
    path.write_text(path.read_text().replace("SETTINGS = None", 'SETTINGS = Config("s", default_value={})'))
    done = _flowc(["-m", "flowc", "check", "param_flow.py"], tmp_path)
    assert done.returncode == 1
    assert "parameter name 'config' is reserved by the run command line" in done.stderr


def test_a_value_for_an_undeclared_config_is_refused(tmp_path: Path) -> None:
    _flow(tmp_path)
    done = _flowc(["-m", "flowc", "check", "configured_flow.py", "--config-value", "setings", "{}"], tmp_path)
    assert done.returncode == 1
    assert "a value is given for config 'setings', which the flow does not declare" in done.stderr
    assert "its configs are: labels, settings" in done.stderr


def test_configs_too_large_for_a_tasks_environment_are_refused(tmp_path: Path) -> None:
    _flow(tmp_path, {**SETTINGS, "blob": "x" * 70_000})
    done = _flowc(["-m", "flowc", "check", "configured_flow.py"], tmp_path)
    assert done.returncode == 1
    assert "more than the 65536 every task's environment can carry" in done.stderr


def test_tasks_take_the_values_fixed_where_the_run_started(tmp_path: Path) -> None:
    # A default computed from the process that evaluates it: each task would get its own if tasks
    # resolved configs again; every task must see the one the run started with.
    path = tmp_path / "stamp_flow.py"
    path.write_text(
        textwrap.dedent("""
        import os

        from flowc import Config, FlowSpec, config_expr, environment, step

        class StampFlow(FlowSpec):
            stamp = Config("stamp", default_value=lambda ctx: {"pid": os.getpid()})

            @step
            def start(self):
                self.start_pid = os.getpid()
                self.next(self.end)

            @environment(vars={"STAMP": config_expr("str(stamp.pid)")})
            @step
            def end(self):
                self.seen = (os.environ["STAMP"], self.stamp.pid, os.getpid(), self.start_pid)
        """),
        encoding="utf-8",
    )
    done = _flowc(
        [
            "-m",
            "flowc",
            "run",
            "stamp_flow.py",
            "--datastore",
            "ds",
            "--run-id-file",
            "run-id",
            "--executor",
            "subprocess",
        ],
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    env_stamp, artifact_stamp, end_pid, start_pid = Run(
        f"StampFlow/{_run_id(tmp_path)}", datastore=str(tmp_path / "ds")
    )["end"].task.data.seen
    assert env_stamp == str(artifact_stamp)
    assert artifact_stamp not in (end_pid, start_pid)


def test_resume_reuses_the_origin_runs_config_values(tmp_path: Path) -> None:
    # Metaflow's resume takes the origin run's configs: a default file changed between the failed
    # run and its resume changes nothing in the resumed run (decorators and artifacts alike).
    (tmp_path / "settings.json").write_text(json.dumps({"greeting": "hello"}), encoding="utf-8")
    (tmp_path / "resumed_flow.py").write_text(
        textwrap.dedent("""
        import os

        from flowc import Config, FlowSpec, environment, step

        class ResumedConfigFlow(FlowSpec):
            settings = Config("settings", default="settings.json")

            @step
            def start(self):
                self.started_with = self.settings.greeting
                self.next(self.end)

            @environment(vars={"GREETING": settings.greeting})
            @step
            def end(self):
                if os.environ.get("BREAK") == "yes":
                    raise RuntimeError("broken until resumed")
                self.seen = (os.environ["GREETING"], self.settings.greeting)
        """),
        encoding="utf-8",
    )
    common = ["resumed_flow.py", "--datastore", "ds", "--run-id-file", "run-id"]
    failed = _flowc(["-m", "flowc", "run", *common], tmp_path, env={"BREAK": "yes"})
    assert failed.returncode != 0 and "broken until resumed" in failed.stdout + failed.stderr
    origin = _run_id(tmp_path)
    (tmp_path / "settings.json").write_text(json.dumps({"greeting": "changed"}), encoding="utf-8")

    refused = _flowc(
        ["-m", "flowc", "resume", *common, "--config-value", "settings", '{"greeting": "other"}'], tmp_path
    )
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "reuses" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1

    resumed = _flowc(["-m", "flowc", "resume", *common, "--origin-run-id", origin], tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    run = Run(f"ResumedConfigFlow/{_run_id(tmp_path)}", datastore=str(tmp_path / "ds"))
    assert run.origin_run_id == origin
    assert run["end"].task.data.seen == ("hello", "hello")
    assert run["end"].task.data.settings == {"greeting": "hello"}
    assert run["start"].task.data.started_with == "hello"  # cloned from the origin run
