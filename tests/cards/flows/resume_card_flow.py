"""A card on a step that `flowc resume` clones (Metaflow's card_resume test, on flowc)."""

import os

from flowc import FlowSpec, card, current, step


class ResumeCardFlow(FlowSpec):
    @card(type="taskspec_card")
    @step
    def start(self):
        self.origin_pathspec = current.pathspec
        self.next(self.end)

    @step
    def end(self):
        if os.environ.get("FAIL_END"):
            raise RuntimeError("fail once, then resume")
