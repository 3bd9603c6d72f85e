"""`--with DECORATOR[:ARGS]` on run, compile and deploy, as Metaflow's (issue 18, item 11).

The decorator is added to every step that has none of its own; it is lowered once, into the IR,
and every task gets the specs in its environment (the task runner builds its own IR from source).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from flowc.cli import main
from flowc.client import Run
from flowc.frontend import build_ir
from flowc.frontend.decospecs import WITH_ENV, apply_decospecs, parse_decospec
from tests.argo.fake_kube import FakeKube, fake_kube
from tests.conformance.matrix import REPO_ROOT

FLAKY = """
    import os

    from flowc import FlowSpec, current, retry, step


    class FlakyFlow(FlowSpec):
        @step
        def start(self):
            if current.retry_count < 2:
                raise RuntimeError(f"flaky, attempt {current.retry_count}")
            self.attempts = current.retry_count
            self.next(self.middle)

        @step
        def middle(self):
            self.seen = os.environ.get("GREETING")
            raise ValueError("always")
            self.next(self.end)

        @retry(times=0)
        @step
        def end(self):
            self.caught = str(getattr(self, "err", None))


    if __name__ == "__main__":
        FlakyFlow()
    """

WITH = [
    "--with",
    "retry:times=2,minutes_between_retries=0",
    "--with",
    "catch:var=err",
    "--with",
    'environment:vars={"GREETING": "hi"}',
]


def _flow(tmp_path: Path) -> Path:
    path = tmp_path / "flaky_flow.py"
    path.write_text(textwrap.dedent(FLAKY), encoding="utf-8")
    return path


def _python(argv: list[str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWC_")}
    env["PYTHONPATH"] = str(REPO_ROOT)
    return subprocess.run([sys.executable, *argv], capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.parametrize("executor", ["fork", "subprocess"])
def test_run_with_retry_catch_and_environment_on_every_step(tmp_path: Path, executor: str) -> None:
    path = _flow(tmp_path)
    store = str(tmp_path / "ds")
    result = _python(
        [
            str(path),
            "run",
            "--datastore",
            store,
            "--executor",
            executor,
            "--run-id-file",
            str(tmp_path / "id"),
            *WITH,
        ]
    )
    assert result.returncode == 0, result.stderr
    run = Run(f"FlakyFlow/{(tmp_path / 'id').read_text()}", datastore=store, _namespace_check=False)
    assert run.data.attempts == 2  # --with retry: the start step's third attempt succeeded
    assert run["middle"].task.data.seen == "hi"  # --with environment
    assert "always" in run.data.caught  # --with catch: the failure was caught, the run went on


def test_with_before_the_command_as_metaflow_allows(tmp_path: Path) -> None:
    # `python flow.py --with retry run`: Metaflow's top-level --with is the command's.
    path = _flow(tmp_path)
    store = str(tmp_path / "ds")
    result = _python([str(path), *WITH, "run", "--datastore", store, "--run-id-file", str(tmp_path / "id")])
    assert result.returncode == 0, result.stderr
    run = Run(f"FlakyFlow/{(tmp_path / 'id').read_text()}", datastore=store, _namespace_check=False)
    assert run.data.attempts == 2 and "always" in run.data.caught


def test_resume_with_finishes_a_run_that_failed_without(tmp_path: Path) -> None:
    path = _flow(tmp_path)
    store = str(tmp_path / "ds")
    assert _python([str(path), "run", "--datastore", store]).returncode == 1
    id_file = str(tmp_path / "id")
    result = _python([str(path), "resume", "--datastore", store, "--run-id-file", id_file, *WITH])
    assert result.returncode == 0, result.stderr
    run = Run(f"FlakyFlow/{(tmp_path / 'id').read_text()}", datastore=store, _namespace_check=False)
    assert run.data.attempts == 2 and "always" in run.data.caught


def test_without_with_the_same_flow_fails(tmp_path: Path) -> None:
    result = _python([str(_flow(tmp_path)), "run", "--datastore", str(tmp_path / "ds")])
    assert result.returncode == 1


def test_a_steps_own_decorator_wins(tmp_path: Path) -> None:
    ir = build_ir(_flow(tmp_path))
    applied = apply_decospecs(ir, ["retry:times=2,minutes_between_retries=0", "timeout:seconds=30"])
    assert applied.step("start").retry.times == 2
    assert applied.step("end").retry.times == 0  # its own @retry(times=0)
    assert {s.timeout.seconds for s in applied.steps} == {30}
    assert applied.with_decorators == ("retry:times=2,minutes_between_retries=0", "timeout:seconds=30")
    assert apply_decospecs(applied, list(applied.with_decorators)) == applied  # applying again: no change


def test_specs_are_read_as_metaflow_reads_them() -> None:
    spec = parse_decospec('resources:cpu=2,memory=4096,disk="10Gi"')
    assert spec.name == "resources" and spec.arguments == {"cpu": 2, "memory": 4096, "disk": "10Gi"}
    assert parse_decospec("catch").arguments == {}
    assert parse_decospec("timeout:minutes=1.5").arguments == {"minutes": 1.5}


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("kubernetes", "--with kubernetes: `flowc run` runs every task on this machine"),
        ("conda", "--with conda: a Metaflow decorator flowc does not support (yet)"),
        ("nosuch", "--with nosuch: unknown step decorator; --with takes retry, catch"),
        ("retry:times=many", "--with retry:times=many: @retry: times must be a number"),
        ("retry:times", "--with 'retry:times': 'times' is not KEY=VALUE"),
    ],
)
def test_bad_specs_are_one_line_usage_errors(tmp_path: Path, spec: str, says: str) -> None:
    result = _python([str(_flow(tmp_path)), "run", "--datastore", str(tmp_path / "ds"), "--with", spec])
    assert result.returncode == 2
    assert result.stderr.startswith("flowc run: ")
    assert says in result.stderr and len(result.stderr.splitlines()) == 1, result.stderr
    assert not (tmp_path / "ds").exists()


@pytest.mark.parametrize(
    ("target", "extra", "retried"),
    [
        ("argo", [], "limit: 4"),
        ("airflow", [], "retries=4"),
        ("sfn", ["--datastore", "s3://bucket/prefix"], '"MaxAttempts": 4'),
    ],
)
def test_compile_lowers_with_into_every_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], target: str, extra: list[str], retried: str
) -> None:
    path = _flow(tmp_path)
    assert main(["compile", str(path), "--target", target, *extra, "--with", "retry:times=4"]) == 0
    text = capsys.readouterr().out
    assert retried in text
    if target != "sfn":  # Step Functions sets task environments at deploy, in its job definitions
        assert WITH_ENV in text


def test_compile_refuses_a_bad_spec(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compile", str(_flow(tmp_path)), "--target", "argo", "--with", "parallel"]) == 2
    assert "flowc compile: --with parallel: a Metaflow decorator" in capsys.readouterr().err


@pytest.fixture
def kube(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeKube]:
    """A fake Kubernetes API (the Argo deploy tests' own) that `flowc deploy --target argo` talks to."""
    with fake_kube() as server:
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("FLOWC_KUBERNETES__API_SERVER", server.url)
        monkeypatch.setenv("FLOWC_KUBERNETES__TOKEN", server.token)
        monkeypatch.setenv("FLOWC_DATASTORE", str(tmp_path / "datastore"))
        yield server


def test_deploy_lowers_with_into_the_deployed_template(kube: FakeKube) -> None:
    import json

    from tests.conformance.matrix import FLOWS_DIR

    flow = str(FLOWS_DIR / "linear_flow.py")
    assert main(["deploy", flow, "--target", "argo", "--with", "retry:times=4"]) == 0
    stored = json.dumps(kube.objects[("workflowtemplates", "default", "linearflow")])
    assert '"limit": 4' in stored
    assert WITH_ENV in stored and "retry:times=4" in stored
