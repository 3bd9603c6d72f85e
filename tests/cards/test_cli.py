"""`flowc run` of a flow with @card and current.card components, then `flowc card list|get|view`
and the client (`Task.cards`, `get_cards`), as a user would."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowc.cards import CardNotPresentException, get_cards
from flowc.client import Flow, namespace
from tests.cards.conftest import flowc as _flowc
from tests.cards.flows.card_flow import PNG


def test_card_list_shows_every_card_and_why_two_failed(card_run) -> None:
    work, datastore, run_id = card_run
    done = _flowc(
        "card", "list", f"CardFlow/{run_id}/start/start", "--datastore", datastore, "--as-json", cwd=work
    )
    assert done.returncode == 0, done.stderr
    cards = {card["type"]: card for card in json.loads(done.stdout)["cards"]}
    assert set(cards) == {"default", "blank", "broken_card", "slow_card"}
    assert cards["blank"]["id"] == "report" and cards["blank"]["status"] == "ok"
    assert cards["broken_card"]["status"] == "error" and "broken on purpose" in cards["broken_card"]["error"]
    assert cards["slow_card"]["status"] == "timeout"
    step = _flowc("card", "list", f"CardFlow/{run_id}/start", "--datastore", datastore, cwd=work)
    assert step.returncode == 0 and "type blank  id report" in step.stdout


def test_card_get_writes_the_html(card_run) -> None:
    work, datastore, run_id = card_run
    task = f"CardFlow/{run_id}/start/start"
    done = _flowc("card", "get", task, "report.html", "--id", "report", "--datastore", datastore, cwd=work)
    assert done.returncode == 0, done.stderr
    html = (work / "report.html").read_text()
    assert "<h1>Report</h1>" in html and "<td>three</td>" in html and "vegaEmbed(" in html
    assert 'value="3.0"' in html  # the progress bar's last update
    default = _flowc("card", "get", task, "--type", "default", "--datastore", datastore, cwd=work)
    assert default.returncode == 0, default.stderr
    # the default card: parameters, artifacts with previews, graph, attempt, logs, the step's components
    for expected in (
        "alpha",
        "0.5",
        "rows",
        "data:image/png;base64,",
        "fc-here",
        "attempt 0",
        "hello from start",
        "Extra from <strong>start</strong>",
    ):
        assert expected in default.stdout
    assert "vegaEmbed(" not in default.stdout  # Vega only in a card that has a chart
    broken = _flowc("card", "get", task, "--type", "broken_card", "--datastore", datastore, cwd=work)
    assert "this card is broken on purpose" in broken.stdout


def test_card_view_prints_the_file(card_run) -> None:
    work, datastore, run_id = card_run
    out = work / "view.html"
    done = _flowc(
        "card",
        "view",
        f"CardFlow/{run_id}/start/start",
        "--id",
        "report",
        "--no-browser",
        "--out",
        str(out),
        "--datastore",
        datastore,
        cwd=work,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(out) and "<h1>Report</h1>" in out.read_text()


def test_card_view_without_a_display_only_prints_the_path(card_run) -> None:
    work, datastore, run_id = card_run
    done = _flowc(
        "card",
        "view",
        f"CardFlow/{run_id}/start/start",
        "--type",
        "default",
        "--datastore",
        datastore,
        cwd=work,
        env={"DISPLAY": "", "WAYLAND_DISPLAY": "", "BROWSER": ""},
    )
    assert done.returncode == 0, done.stderr
    path = Path(done.stdout.strip())
    assert path.suffix == ".html" and "hello from start" in path.read_text(encoding="utf-8")
    path.unlink()


def test_missing_cards_are_one_line_errors(card_run) -> None:
    work, datastore, run_id = card_run
    for words in (
        ("card", "get", f"CardFlow/{run_id}/end/end"),
        ("card", "get", f"CardFlow/{run_id}/start/start", "--type", "nope"),
        ("card", "list", f"CardFlow/{run_id}/start/9"),
        ("card", "get", "CardFlow/start"),
    ):
        done = _flowc(*words, "--datastore", datastore, cwd=work)
        assert done.returncode != 0 and len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert "Traceback" not in done.stderr
    done = _flowc("card", "get", f"CardFlow/{run_id}/end/end", "--datastore", datastore, cwd=work)
    assert CardNotPresentException.headline in done.stderr


def test_client_task_cards_and_get_cards(card_run) -> None:
    _, datastore, run_id = card_run
    namespace(None)
    run = Flow("CardFlow", datastore=datastore)[run_id]
    task = run["start"].task
    assert [card.type for card in task.cards] == ["slow_card", "broken_card", "blank", "default"]
    (report,) = get_cards(task, id="report")
    assert "<h1>Report</h1>" in report.get()
    assert report.get_data()["data"]["bar"].count('value="3.0"') == 1  # the final data update
    assert task.cards == run["start"].task.cards != run["end"].task.cards  # same cards, same order
    assert len(run["end"].task.cards) == 0 and run["end"].task.cards == run["end"].task.cards
    with pytest.raises(CardNotPresentException):
        get_cards(run["end"].task)
    assert run["start"].task.data.picture == PNG


def test_metaflow_form_python_flow_card_get(card_run) -> None:
    """`python FLOW.py card get RUN/step/task FILE --type T`: the flow is the file's (Metaflow's CLI)."""
    import subprocess
    import sys

    from tests.cards.conftest import FLOW, REPO

    work, datastore, run_id = card_run
    done = subprocess.run(
        [
            sys.executable,
            str(FLOW),
            "--quiet",
            "card",
            "get",
            f"{run_id}/start/start",
            "out.html",
            "--id",
            "report",
            "--datastore",
            datastore,
        ],
        cwd=work,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "<h1>Report</h1>" in (work / "out.html").read_text()


@pytest.mark.parametrize(
    "pathspec",
    ["start", "{run_id}/start"],
    ids=["step-of-the-latest-run", "run-and-step"],
)
def test_metaflow_form_step_name_is_the_latest_run(card_run, pathspec: str) -> None:
    """Metaflow's docs: `python flow.py card view start` (the step of the latest run) and
    `card get RUN/step` (that step's task), as Metaflow's card CLI resolves them."""
    import subprocess
    import sys

    from tests.cards.conftest import FLOW, REPO

    work, datastore, run_id = card_run
    words = ["card", "get", pathspec.format(run_id=run_id), "step.html", "--id", "report"]
    done = subprocess.run(
        [sys.executable, str(FLOW), "--quiet", *words, "--datastore", datastore],
        cwd=work,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "<h1>Report</h1>" in (work / "step.html").read_text()


def test_card_view_of_a_step_shows_its_task(card_run) -> None:
    work, datastore, run_id = card_run
    done = _flowc(
        "card",
        "view",
        f"CardFlow/{run_id}/start",
        "--id",
        "report",
        "--no-browser",
        "--datastore",
        datastore,
        cwd=work,
    )
    assert done.returncode == 0, done.stderr
    assert "<h1>Report</h1>" in Path(done.stdout.strip()).read_text()


def test_a_card_calling_sys_exit_never_fails_its_task(tmp_path: Path) -> None:
    from tests.cards.conftest import REPO

    flow = REPO / "tests" / "cards" / "flows" / "exit_card_flow.py"
    datastore = str(tmp_path / "ds")
    done = _flowc("run", str(flow), "--datastore", datastore, "--run-id-file", "run-id", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    run_id = (tmp_path / "run-id").read_text().strip()
    listing = _flowc(
        "card", "list", f"ExitCardFlow/{run_id}/start", "--as-json", "--datastore", datastore, cwd=tmp_path
    )
    assert listing.returncode == 0, listing.stderr
    cards = {card["type"]: card for card in json.loads(listing.stdout)[0]["cards"]}
    assert cards["exiting_card"]["status"] == "error" and "SystemExit" in cards["exiting_card"]["error"]
    assert cards["blank"]["status"] == "ok"
