"""Cards in a real browser (headless Chromium): the chart draws, the table has its rows, the image
decodes, all from one self-contained file opened with the network cut off."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cards.conftest import flowc
from tests.helpers.browser import chromium_browser

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from chromium_browser()


def _open(browser: Any, path: Path, requests: list[str]) -> Any:
    page = browser.new_page()
    # Any request other than the file itself is recorded and refused: a card must need no network.
    page.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith("file://")
            else (requests.append(route.request.url), route.abort())
        ),
    )
    page.goto(path.as_uri())
    return page


def test_report_card_renders_offline(browser: Any, card_run, tmp_path: Path) -> None:
    work, datastore, run_id = card_run
    path = tmp_path / "report.html"
    done = flowc(
        "card",
        "get",
        f"CardFlow/{run_id}/start/start",
        str(path),
        "--id",
        "report",
        "--datastore",
        datastore,
        cwd=work,
    )
    assert done.returncode == 0, done.stderr
    requests: list[str] = []
    page = _open(browser, path, requests)
    page.wait_for_selector(".fc-vega-target svg", timeout=20_000)  # the chart draws
    assert page.locator(".fc-vega-target svg .mark-rect path").count() == 3  # one bar per value
    rows = page.locator("table.fc-table tbody tr")
    assert rows.count() == 3 and rows.nth(2).inner_text().split() == ["3", "three"]
    page.wait_for_function("document.querySelector('img.fc-image').complete")
    assert page.evaluate("document.querySelector('img.fc-image').naturalWidth") == 2  # the PNG decoded
    assert page.evaluate("document.querySelector('progress').value") == 3
    assert requests == []
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    print(f"screenshot: {tmp_path / 'report.png'}")


def test_default_card_renders_offline(browser: Any, card_run, tmp_path: Path) -> None:
    work, datastore, run_id = card_run
    path = tmp_path / "default.html"
    done = flowc(
        "card",
        "get",
        f"CardFlow/{run_id}/start/start",
        str(path),
        "--type",
        "default",
        "--datastore",
        datastore,
        cwd=work,
    )
    assert done.returncode == 0, done.stderr
    requests: list[str] = []
    page = _open(browser, path, requests)
    assert page.locator(".fc-step.fc-here").inner_text() == "start"
    page.wait_for_function("document.querySelector('img.fc-image').complete")
    assert page.evaluate("document.querySelector('img.fc-image').naturalWidth") == 2  # `picture`
    assert "hello from start" in page.locator("pre").last.inner_text()
    assert requests == []
