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
    assert main(["logs", "HelloFlow/1000/start/start", "--datastore", datastore]) == 0
    assert capsys.readouterr().out == "hi from start\n"
    assert main(["logs", "HelloFlow/1000/body", "--datastore", datastore, "--stdout"]) == 0
    out = capsys.readouterr().out
    assert "=== HelloFlow/1000/body/body-0" in out and out.count("hi from body") == 2
    assert main(["logs", "HelloFlow/1000/nope/nope", "--datastore", datastore]) == 1


def test_dump_a_task_and_a_run(datastore: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dump", "HelloFlow/1000/body/body-1", "--datastore", datastore]) == 0
    out = capsys.readouterr().out
    assert "  x = 1000" in out and "  y = 10" in out
    assert main(["dump", "HelloFlow/1000", "--datastore", datastore, "--artifact", "message"]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == ["  message = 'done'"]
    assert main(["dump", "HelloFlow/2000", "--datastore", datastore]) == 1


def _flip_byte(path, offset: int = -5) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def test_corrupt_objects_and_records_are_clear_errors(
    datastore: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import json
    from pathlib import Path

    from flowc.datastore import layout

    root = Path(datastore)
    record = json.loads((root / layout.task_key("HelloFlow", "1000", "body", "body-1")).read_text())
    _flip_byte(root / layout.object_key(record["artifacts"]["y"]["sha"]))
    assert main(["dump", "HelloFlow/1000/body/body-1", "--datastore", datastore]) == 1
    captured = capsys.readouterr()
    assert "  x = 1000" in captured.out and "  y = <cannot load: CorruptObject>" in captured.out
    assert "HelloFlow/1000/body/body-1/y" in captured.err and "corrupt" in captured.err
    assert "Traceback" not in captured.err
    # a record that is no longer JSON: that run is reported, the others still listed
    (root / layout.run_key("HelloFlow", "2000")).write_text('{"id": "2000", "flow": ')
    assert main(["runs", "HelloFlow", "--datastore", datastore]) == 0
    captured = capsys.readouterr()
    listed = [line.split()[0] for line in captured.out.splitlines()]
    assert "1000" in listed and "2000" not in listed
    assert "HelloFlow/2000" in captured.err and "corrupt" in captured.err
    for command in (["dump", "HelloFlow/2000/start/start"], ["logs", "HelloFlow/2000/start/start"]):
        assert main([*command, "--datastore", datastore]) == 1
        captured = capsys.readouterr()
        assert "run.json" in captured.err and "corrupt" in captured.err
