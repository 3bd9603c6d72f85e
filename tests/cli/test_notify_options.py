"""``--notify-on-error`` / ``--notify-on-success`` on compile (what deploy sends): each target's
end-of-run command gets ``--notify EVENT``; the webhook URL, configured where flowc compiles too,
never reaches the document."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flowc.cli import main

FLOW = Path(__file__).resolve().parents[1] / "conformance" / "flows" / "linear_flow.py"
SECRET_URL = "https://hooks.slack.example/services/T0/B0/very-secret-path"


@pytest.mark.parametrize("target", ["argo", "sfn", "airflow"])
def test_the_events_are_compiled_in_and_the_url_is_not(target: str, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("FLOWC_NOTIFY__SLACK_WEBHOOK_URL", SECRET_URL)
    monkeypatch.setenv("FLOWC_NOTIFY__WEBHOOK_URL", SECRET_URL)
    out = tmp_path / "out"
    argv = ["compile", str(FLOW), "--target", target, "--datastore", "s3://bucket/prefix", "-o", str(out)]
    assert main([*argv, "--notify-on-error", "--notify-on-success"]) == 0
    text = (
        "".join(p.read_text() for p in sorted(out.rglob("*")) if p.is_file())
        if out.is_dir()
        else out.read_text()
    )
    assert SECRET_URL not in text and "very-secret-path" not in text
    words = re.sub(r"\s+", "", text).replace("'", '"')  # JSON, Python and YAML lists alike
    for event in ("error", "success"):
        assert re.search(f'"--notify"[,-]"?{event}', words), event


def test_without_the_options_nothing_notifies(tmp_path: Path) -> None:
    out = tmp_path / "out.yaml"
    assert main(["compile", str(FLOW), "--target", "argo", "--datastore", "s3://b/p", "-o", str(out)]) == 0
    assert "--notify" not in out.read_text()
