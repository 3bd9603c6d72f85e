"""``flowc ui`` in a real browser: Debian's headless Chromium driven by Playwright.

The server is ``flowc ui --port 0`` started as a user starts it, over a datastore holding runs of
tests/ui/flows/ui_flow.py from ``flowc run`` and from the Argo, Step Functions and Airflow harnesses
(tests/ui/conftest.py). The tests click through flows, runs, tasks and cards and save a screenshot
of each page they check (in pytest's temporary folder; the path is printed).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from flowc.metadata import decode_json, encode_json
from tests.helpers.browser import chromium_browser
from tests.ui.conftest import FLOW_NAME, UiRuns

expect = pytest.importorskip("playwright.sync_api", reason="browser tests skipped: playwright missing").expect

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    yield from chromium_browser()


@pytest.fixture(scope="session")
def ui_url(engines_datastore: UiRuns) -> Iterator[str]:
    """``flowc ui`` serving the engines' datastore on a free port of 127.0.0.1."""
    env = {**os.environ, "FLOWC_TEST_MARKER_DIR": engines_datastore.marker_dir}
    process = subprocess.Popen(
        [sys.executable, "-m", "flowc", "ui", "--datastore", engines_datastore.root, "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        line = process.stdout.readline() if process.stdout else ""
        assert " on http://127.0.0.1:" in line, line
        yield line.split(" on ", 1)[1].split()[0].rstrip("/")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


@pytest.fixture
def page(chromium, tmp_path: Path):  # type: ignore[no-untyped-def]
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    context.close()
    assert errors == [], errors


def _click(page, locator) -> None:  # type: ignore[no-untyped-def]
    """Scrolls ``locator`` into view, lets two frames render, then clicks it. Headless Chromium
    routes a click right after a scroll by the previous frame's layout, so with a card's
    out-of-process iframe on the page the click can land in the iframe instead."""
    locator.scroll_into_view_if_needed()
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
    locator.click()


def _shot(page, tmp_path: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    print(f"screenshot: {path}")


def test_flows_then_runs_of_every_engine(
    page, ui_url: str, engines_datastore: UiRuns, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    page.goto(ui_url + "/")
    page.click(f"a.flow:text-is('{FLOW_NAME}')")
    page.wait_for_selector("#runs tbody tr")
    rows = page.locator("#runs tbody tr")
    shown = {
        rows.nth(i).get_attribute("data-run"): rows.nth(i).locator("td").nth(1).inner_text()
        for i in range(rows.count())
    }
    assert shown == {
        engines_datastore.runs["local"]: "local",
        engines_datastore.runs["failed"]: "local",
        engines_datastore.runs["argo"]: "argo",
        engines_datastore.runs["sfn"]: "step-functions",
        engines_datastore.runs["airflow"]: "airflow",
    }
    _shot(page, tmp_path, "runs")
    page.select_option("select[name=engine]", "airflow")
    page.wait_for_url("**engine=airflow**")
    page.wait_for_selector("#runs tbody tr")
    assert page.locator("#runs tbody tr").count() == 1
    assert page.locator("#runs tbody tr").get_attribute("data-run") == engines_datastore.runs["airflow"]


@pytest.mark.parametrize("engine", ["argo", "sfn", "airflow", "local"])
def test_run_page_graph_timeline_and_tasks(
    page, ui_url: str, engines_datastore: UiRuns, tmp_path: Path, engine: str
) -> None:  # type: ignore[no-untyped-def]
    run_id = engines_datastore.runs[engine]
    page.goto(f"{ui_url}/flows/{FLOW_NAME}")
    page.click(f"a.run:text-is('{run_id}')")
    page.wait_for_selector("#task-table tbody tr")
    steps = page.locator("svg.graph g.step")
    assert [steps.nth(i).get_attribute("data-step") for i in range(steps.count())] == [
        "start",
        "square",
        "join",
        "end",
    ]
    assert page.locator("svg.graph g.step.successful").count() == 4
    assert "3/3 tasks" in page.locator("svg.graph g[data-step=square]").text_content()
    assert page.locator("#timeline").get_attribute("data-attempts") == "6"
    assert page.locator("#task-table tbody tr").count() == 6
    assert page.locator("h1 .badge").inner_text() == "successful"
    _shot(page, tmp_path, f"run-{engine}")
    # A step's box lists its tasks.
    _click(page, page.locator("svg.graph g[data-step=square] a"))
    expect(page.locator("#task-table tbody tr")).to_have_count(3)


def test_task_page_cards_artifacts_and_logs(
    page, ui_url: str, engines_datastore: UiRuns, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    run_id = engines_datastore.runs["local"]
    page.goto(f"{ui_url}/flows/{FLOW_NAME}/runs/{run_id}")
    _click(page, page.locator("#task-table tr[data-task='join/join'] a.task"))
    expect(page.locator("iframe.card-frame")).to_have_count(2)
    for i in range(2):
        assert page.locator("iframe.card-frame").nth(i).get_attribute("sandbox") == "allow-scripts"
    # The blank card the step built with current.card["report"]: its table has its rows.
    report = page.frame_locator("iframe.card-frame >> nth=1")
    expect(report.locator("table tr")).to_have_count(4)
    expect(report.locator("body")).to_contain_text("Squares")
    squares = page.locator("#artifacts tr[data-artifact=squares]")
    assert squares.locator("td").nth(1).inner_text() == "list"
    _click(page, squares.locator("button"))
    assert squares.locator("td.preview pre").inner_text() == "[1, 4, 9]"
    _shot(page, tmp_path, "task-with-cards")
    page.goto(f"{ui_url}/flows/{FLOW_NAME}/runs/{run_id}/steps/square/tasks/square-1")
    expect(page.locator("#log")).to_contain_text("squaring 2")


def test_a_card_cannot_script_the_ui(page, ui_url: str, engines_datastore: UiRuns) -> None:  # type: ignore[no-untyped-def]
    """A card whose script reaches for the page around it (written through the card store)."""
    run_id = engines_datastore.runs["local"]
    page.goto(f"{ui_url}/flows/{FLOW_NAME}/runs/{run_id}/steps/square/tasks/square-0")
    card = page.frame_locator("iframe.card-frame")
    expect(card.locator("#card-table tr")).to_have_count(4)
    expect(card.locator("#escape")).to_have_text("blocked")  # its script ran, and was refused
    assert page.evaluate("document.body.dataset.hackedByCard") is None


def test_failed_task_shows_its_exception(
    page, ui_url: str, engines_datastore: UiRuns, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    run_id = engines_datastore.runs["failed"]
    page.goto(f"{ui_url}/flows/{FLOW_NAME}/runs/{run_id}")
    page.wait_for_selector("svg.graph g.step.failed[data-step=square]")
    page.select_option("#status-filter", "failed")
    expect(page.locator("#task-table tbody tr")).to_have_count(1)
    page.click("#task-table a.task")
    page.wait_for_selector("#exception")
    assert "ValueError" in page.locator("#exception").inner_text()
    assert "two is not welcome here" in page.locator("#exception").inner_text()
    _shot(page, tmp_path, "failed-task")


def test_preview_of_a_package_run_object(page, ui_url: str, engines_datastore: UiRuns) -> None:  # type: ignore[no-untyped-def]
    """An object of a class of the flow file, from a run whose code is a package (Step Functions):
    the preview child unpacks the package and unpickles it; the server never does."""
    run_id = engines_datastore.runs["sfn"]
    page.goto(f"{ui_url}/flows/{FLOW_NAME}/runs/{run_id}/steps/start/tasks/start")
    marker = page.locator("#artifacts tr[data-artifact=marker]")
    _click(page, marker.locator("button"))
    assert marker.locator("td.preview pre").inner_text() == "Marker('start')"


def test_a_running_run_updates_itself(page, ui_url: str, engines_datastore: UiRuns) -> None:  # type: ignore[no-untyped-def]
    """A run whose end task has not run yet shows as running; once it finishes, the open page
    shows it without a reload (it polls the API)."""
    source = Path(engines_datastore.root) / "runs" / FLOW_NAME / engines_datastore.runs["local"]
    target = source.with_name("1000000000000")
    shutil.copytree(source, target)
    end = target / "end"
    parked = target.with_name("parked-end")
    status = target / "status.json"
    end.rename(parked)
    status.unlink()
    # Its runtime is this live process (a dead one would make the run `crashed`, not `running`).
    run_json = target / "run.json"
    record = decode_json(run_json.read_bytes(), "run.json")
    record["launcher"] = {**record["launcher"], "pid": os.getpid(), "pid_start": None}
    run_json.write_bytes(encode_json(record))
    try:
        page.goto(f"{ui_url}/flows/{FLOW_NAME}/runs/{target.name}")
        page.wait_for_selector("h1 .badge.running")
        assert page.locator("svg.graph g.step[data-step=end]").get_attribute("class") == "step not-started"
        parked.rename(end)
        page.wait_for_selector("h1 .badge.successful", timeout=30_000)
        page.wait_for_selector("svg.graph g.step.successful[data-step=end]")
    finally:
        shutil.rmtree(target, ignore_errors=True)
        shutil.rmtree(parked, ignore_errors=True)
