"""A card whose code calls ``sys.exit()`` (a library helper might): the task must still succeed."""

import sys

from flowc import FlowSpec, card, step
from flowc.cards import MetaflowCard


class ExitingCard(MetaflowCard):
    type = "exiting_card"

    def render(self, task):
        sys.exit(3)


class ExitCardFlow(FlowSpec):
    @card(type="exiting_card")
    @card(type="blank", id="fine")
    @step
    def start(self):
        self.value = 1
        self.next(self.end)

    @step
    def end(self):
        pass
