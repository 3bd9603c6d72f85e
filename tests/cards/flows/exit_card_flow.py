"""A card whose code calls ``sys.exit()`` (a library helper might), while the task runs and when it
has ended: the task must still succeed."""

import sys

from flowc import FlowSpec, card, current, step
from flowc.cards import MetaflowCard


class ExitingCard(MetaflowCard):
    type = "exiting_card"
    RUNTIME_UPDATABLE = True

    def render_runtime(self, task, data):
        sys.exit(2)

    def render(self, task):
        sys.exit(3)


class ExitCardFlow(FlowSpec):
    @card(type="exiting_card", id="exiting")
    @card(type="blank", id="fine")
    @step
    def start(self):
        current.card["exiting"].refresh()
        self.value = 1
        self.next(self.end)

    @step
    def end(self):
        pass
