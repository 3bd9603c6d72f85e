"""`flowc runs`, `flowc logs` and `flowc dump` over a datastore laid out by hand."""

from __future__ import annotations

import pytest

from flowc.cli import main


def test_runs_lists_newest_first_with_status(datastore: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["runs", "HelloFlow", "--datastore", datastore]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in lines] == [["2000", "failed"], ["1000", "successful"]]
    assert main(["runs", "HelloFlow", "--datastore", datastore, "--all"]) == 0
    assert "3000" in capsys.readouterr().out
    assert main(["runs", "NoFlow", "--datastore", datastore]) == 1


def test_logs_of_a_task_and_of_a_step(datastore: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["logs", "HelloFlow/1000/start/0", "--datastore", datastore]) == 0
    assert capsys.readouterr().out == "hi from start\n"
    assert main(["logs", "HelloFlow/1000/body", "--datastore", datastore, "--stdout"]) == 0
    out = capsys.readouterr().out
    assert "=== HelloFlow/1000/body/0" in out and out.count("hi from body") == 2
    assert main(["logs", "HelloFlow/1000/nope/0", "--datastore", datastore]) == 1


def test_dump_a_task_and_a_run(datastore: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dump", "HelloFlow/1000/body/1", "--datastore", datastore]) == 0
    out = capsys.readouterr().out
    assert "  x = 1000" in out and "  y = 10" in out
    assert main(["dump", "HelloFlow/1000", "--datastore", datastore, "--artifact", "message"]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == ["  message = 'done'"]
    assert main(["dump", "HelloFlow/2000", "--datastore", datastore]) == 1
