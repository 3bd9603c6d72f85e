"""A card that a running task refreshes, for `flowc card view --follow`."""

import os
import time

from flowc import FlowSpec, card, current, step
from flowc.cards import Markdown


class LiveCardFlow(FlowSpec):
    @card(type="blank", id="live", refresh_interval=0.05)
    @step
    def start(self):
        status = Markdown("starting")
        current.card.append(status)
        for i in range(1, 6):
            status.update(f"round {i}")
            current.card.refresh(force=True)
            # Wait (bounded) for the viewer to have started, so it sees the task running.
            go = os.environ.get("LIVE_CARD_GO")
            for _ in range(200):
                if not go or os.path.exists(go):
                    break
                time.sleep(0.05)
            time.sleep(0.2)
        status.update("done")
        self.next(self.end)

    @step
    def end(self):
        pass
