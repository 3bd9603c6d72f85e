"""The README's pictures of ``flowc ui``: a run page and a card (docs/images/ui-run.png, ui-card.png).

Runs examples/report_flow.py with ``flowc run`` into a temporary datastore, serves it with
``flowc ui --port 0``, and photographs the pages in Debian's headless Chromium through Playwright.
Usage: ``bash scripts/ui-screenshots``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
IMAGES = REPO / "docs" / "images"
FLOW_FILE = REPO / "examples" / "report_flow.py"
CHROMIUM = "/usr/bin/chromium"


def main() -> int:
    from playwright.sync_api import expect, sync_playwright

    if not os.path.exists(CHROMIUM):
        print(
            f"ui-screenshots: no Chromium at {CHROMIUM} (scripts/setup installs it as root)", file=sys.stderr
        )
        return 1
    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="flowc-ui-shots-") as work:
        datastore, id_file = Path(work) / "ds", Path(work) / "run-id"
        flowc = [sys.executable, "-m", "flowc"]
        subprocess.run(
            [*flowc, "run", str(FLOW_FILE), "--datastore", str(datastore), "--run-id-file", str(id_file)],
            check=True,
            capture_output=True,
        )
        run_id = id_file.read_text().strip()
        server = subprocess.Popen(
            [*flowc, "ui", "--datastore", str(datastore), "--port", "0"],
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            url = server.stdout.readline().split(" on ", 1)[1].split()[0].rstrip("/")  # type: ignore[union-attr]
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
                page = browser.new_page(viewport={"width": 1200, "height": 800})
                page.goto(f"{url}/flows/ReportFlow/runs/{run_id}")
                page.wait_for_selector("#task-table tbody tr")
                page.screenshot(path=str(IMAGES / "ui-run.png"), full_page=True)
                page.goto(f"{url}/flows/ReportFlow/runs/{run_id}/steps/report/tasks/0")
                card = page.frame_locator("iframe.card-frame")
                expect(card.locator("svg, canvas").first).to_be_visible()  # the chart has drawn
                page.locator(".card").first.screenshot(path=str(IMAGES / "ui-card.png"))
                browser.close()
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    print(f"wrote {IMAGES / 'ui-run.png'} and {IMAGES / 'ui-card.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
