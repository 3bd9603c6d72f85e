"""A progress bar a running task updates with plain ``refresh()`` calls (Metaflow's docs' example)."""

import os
import time

from flowc import FlowSpec, card, current, step
from flowc.cards import ProgressBar


class ProgressCardFlow(FlowSpec):
    @card(type="blank", refresh_interval=0.01)
    @step
    def start(self):
        bar = ProgressBar(max=3, label="epochs")
        current.card.append(bar)
        current.card.refresh()
        for epoch in range(1, 4):
            time.sleep(0.05)  # past refresh_interval: no refresh is dropped by the rate limit
            bar.update(epoch)
            current.card.refresh()
        # Tell the test the card is refreshed, then wait (bounded) until it has looked.
        open(os.environ["PROGRESS_UPDATED"], "w").close()
        for _ in range(1200):
            if os.path.exists(os.environ["PROGRESS_GO"]):
                break
            time.sleep(0.05)
        self.next(self.end)

    @step
    def end(self):
        pass
