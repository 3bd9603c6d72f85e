"""What Metaflow's card tests check, on flowc: test card types, editable cards, ids, errors,
timeouts and runtime refreshes (the behaviours of ../shared/metaflow-core/tests/card_*.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowc.cards import CardNotPresentException, get_cards
from flowc.cards.test_cards import _component_values_to_hash
from flowc.client import Flow, namespace
from tests.cards.conftest import flowc as _flowc
from tests.helpers.namespaces import every_namespace

FLOW = Path(__file__).parent / "flows" / "metaflow_cards_flow.py"


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """(datastore, run id) of one `flowc run` of the flow."""
    work = tmp_path_factory.mktemp("metaflow-cards")
    datastore = str(work / "ds")
    done = _flowc("run", str(FLOW), "--datastore", datastore, "--run-id-file", "run-id", cwd=work)
    assert done.returncode == 0, done.stderr
    return datastore, (work / "run-id").read_text().strip()


@pytest.fixture(scope="module")
def run(ran: tuple[str, str]):
    datastore, run_id = ran
    with every_namespace():
        yield Flow("MetaflowCardsFlow", datastore=datastore)[run_id]


def test_taskspec_card_error_card_and_timeout(run) -> None:
    task = run["start"].task
    (spec,) = get_cards(task, type="taskspec_card")
    assert spec.get() == task.data.task
    (error,) = get_cards(task, type="test_error_card")  # save_errors=True: stored, saying why
    assert error.status == "error" and "Unknown Things Happened" in error.get()
    with pytest.raises(CardNotPresentException):  # timed out with save_errors=False: nothing stored
        get_cards(task, type="test_timeout_card")


def test_two_pathspec_cards_checked_as_metaflow_cli_check_does(ran: tuple[str, str], tmp_path: Path) -> None:
    """MultipleCardDecoratorTest's CliCheck: ``python FLOW.py dump --file`` gives each task's
    ``run/step/task``, the flow's name goes in front, and ``card get --hash`` of each of the task's
    two cards holds that pathspec (and a random suffix)."""
    import json
    import pickle
    import subprocess
    import sys

    from tests.cards.conftest import REPO

    datastore, run_id = ran
    work = tmp_path

    def python_flow(*words: str) -> None:
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

    python_flow("dump", "--private", "--include", "task", "--file", str(work / "dumped"), f"{run_id}/start")
    dumped = pickle.loads((work / "dumped").read_bytes())
    assert len(dumped) == 1
    for task_pathspec in dumped:
        full_pathspec = "/".join(["MetaflowCardsFlow", task_pathspec])
        assert full_pathspec == f"MetaflowCardsFlow/{run_id}/start/{task_pathspec.split('/')[-1]}"
        task_id = task_pathspec.split("/")[-1]
        python_flow(
            "card", "list", f"{run_id}/start/{task_id}", "--as-json", "--file", str(work / "cards.json")
        )
        listed = json.loads((work / "cards.json").read_text())["cards"]
        hashes = [card["hash"] for card in listed if card["type"] == "test_pathspec_card"]
        assert len(hashes) == 2
        contents = set()
        for card_hash in hashes:
            python_flow(
                "card",
                "get",
                f"{run_id}/start/{task_id}",
                "got",
                "--type",
                "test_pathspec_card",
                "--hash",
                card_hash,
            )
            contents.add((work / "got").read_text())
        assert all(content.startswith(full_pathspec + " ") for content in contents) and len(contents) == 2


def test_default_editable_card_and_ids(run) -> None:
    task = run["editable"].task
    cards = {card.id: card for card in get_cards(task, type="test_editable_card")}
    assert cards[None].get() == "7" and cards["abc"].get() == "8"
    (end,) = get_cards(run["end"].task, id="abc")
    assert end.type == "test_non_editable_card" and end.get() == "5"


def test_refresh_card_while_the_task_runs(run) -> None:
    task = run["refresh"].task
    assert task.data.runtime_html.count('["a"') == 1  # rendered by the first refresh, in the task
    runtime = task.data.runtime_data
    assert set(runtime) >= {"data", "reload_token"}
    assert set(runtime["data"]) >= {"mode", "component_update_ts", "components", "render_seq", "user"}
    assert set(runtime["data"]["user"]["arr"]) <= set(task.data.final_data)
    (card,) = get_cards(task, id="refresh_card")
    assert card.get_data()["data"]["user"]["arr"] == task.data.final_data
    assert '["a", "b", "c", "d"]' in card.get()


def test_component_refresh_card(run) -> None:
    task = run["components"].task
    token = _component_values_to_hash({"component_1": {"abc": ["x"]}})
    assert f"runtime-{token}" in task.data.first_html  # the reload token, in the runtime render
    (card,) = get_cards(task, id="refresh_card")
    assert card.get_data()["data"]["component_1"]["abc"] == task.data.final_data
    assert card.get_data()["reload_token"] == "final"


def test_a_resumed_task_shows_its_origin_cards(tmp_path: Path) -> None:
    flow = Path(__file__).parent / "flows" / "resume_card_flow.py"
    datastore = str(tmp_path / "ds")
    failed = _flowc(
        "run",
        str(flow),
        "--datastore",
        datastore,
        "--run-id-file",
        "first",
        cwd=tmp_path,
        env={"FAIL_END": "1"},
    )
    assert failed.returncode != 0
    resumed = _flowc("resume", str(flow), "--datastore", datastore, "--run-id-file", "second", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    namespace(None)
    second = Flow("ResumeCardFlow", datastore=datastore)[(tmp_path / "second").read_text().strip()]
    start = second["start"].task
    first_start = f"ResumeCardFlow/{(tmp_path / 'first').read_text().strip()}/start/start"
    assert start.origin_pathspec == first_start
    (card,) = get_cards(start, type="taskspec_card")
    assert card.get() == first_start == start.data.origin_pathspec
    got = _flowc(
        "card", "get", start.pathspec, "--type", "taskspec_card", "--datastore", datastore, cwd=tmp_path
    )
    assert got.stdout == first_start


def test_current_card_only_in_a_step_with_card() -> None:
    from flowc import current

    with pytest.raises(AttributeError, match="@card"):
        current.card  # noqa: B018
