"""The behaviours Metaflow's card tests (../shared/metaflow-core/tests/card_*.py) check, with
Metaflow's test card types (flowc.cards.test_cards), in one flow."""

import time

from flowc import FlowSpec, card, current, step
from flowc.cards import get_cards
from flowc.cards.test_cards import TestJSONComponent, TestStringComponent


class MetaflowCardsFlow(FlowSpec):
    @card(type="test_pathspec_card")
    @card(type="test_pathspec_card")
    @card(type="taskspec_card")
    @card(type="test_error_card")
    @card(type="test_timeout_card", timeout=1, options=dict(timeout=20), save_errors=False)
    @step
    def start(self):
        self.task = current.pathspec
        self.next(self.editable)

    @card(type="test_editable_card", id="abc")
    @card(type="test_editable_card")
    @step
    def editable(self):
        current.card.append(current.pathspec)  # not a component: left out with a warning
        current.card["xyz"].append(TestStringComponent("nowhere"))  # no such id: no error
        current.card.append(TestStringComponent("7"))
        current.card["abc"].append(TestStringComponent("8"))
        self.next(self.refresh)

    @card(type="test_refresh_card", id="refresh_card", refresh_interval=0.2)
    @step
    def refresh(self):
        values = ["a"]
        current.card.refresh({"arr": values})
        card = get_cards(current.pathspec, id="refresh_card")[0]
        self.runtime_html = card.get()
        for value in "bcd":
            values.append(value)
            time.sleep(0.3)
            current.card.refresh({"arr": values})
        self.runtime_data = card.get_data()
        self.final_data = values
        self.next(self.components)

    @card(type="test_component_refresh_card", id="refresh_card", refresh_interval=0.2)
    @step
    def components(self):
        values = ["x"]
        current.card.append(TestJSONComponent({"abc": values}), id="component_1")
        current.card.refresh()
        self.first_html = get_cards(current.pathspec, id="refresh_card")[0].get()
        values.append("y")
        time.sleep(0.3)
        current.card.components["component_1"].update({"abc": values})
        current.card.refresh()
        self.final_data = values
        self.next(self.end)

    @card(type="test_non_editable_card", id="abc")
    @step
    def end(self):
        current.card.append(TestStringComponent("ignored"))  # not editable: ignored
        current.card["abc"].append(TestStringComponent("5"))  # by id: added all the same


if __name__ == "__main__":
    MetaflowCardsFlow()
