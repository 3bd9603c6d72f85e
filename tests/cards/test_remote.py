"""Cards rendered by a task on another target: the Argo executor (each container's command run as a
local process) with an S3 datastore (moto server). The task runner writes the cards, so nothing
per target is needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowc.cards import get_cards
from flowc.client import Flow, namespace
from tests.argo.harness import run_flow

FLOW = Path(__file__).parent / "flows" / "card_flow.py"


@pytest.mark.slow
def test_cards_of_an_argo_run_on_s3(s3_root: str, tmp_path: Path) -> None:
    run = run_flow(FLOW, tmp_path / "pods", s3_root)
    assert run.result.phase == "Succeeded", run.result.message
    namespace(None)
    task = Flow("CardFlow", datastore=s3_root)[run.run_id]["start"].task
    statuses = {card.type: card.status for card in task.cards}
    assert statuses == {"slow_card": "timeout", "broken_card": "error", "blank": "ok", "default": "ok"}
    (report,) = get_cards(task, id="report")
    html = report.get()
    assert "<td>three</td>" in html and "vegaEmbed(" in html  # the package carried the Vega assets
    (default,) = get_cards(task, type="default")
    assert "hello from start" in default.get()
