"""Debian's headless Chromium driven by Playwright, for browser tests (no browser download).

Where Chromium or Playwright is missing, the tests using :func:`chromium_browser` are skipped
with a message saying so; the rest of the suite still runs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

__all__ = ["CHROMIUM", "chromium_browser"]

CHROMIUM = "/usr/bin/chromium"


def chromium_browser() -> Iterator[Any]:
    """A launched Chromium browser (use as the body of a pytest fixture: ``yield from``)."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"browser tests skipped: no Chromium at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests skipped: playwright missing")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()
