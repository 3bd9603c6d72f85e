"""The Vega assets of cards (~280 KB gzipped) travel in a code package only when the flow has
@card: no other task renders charts. The card code is in every package (a step may read cards)."""

from __future__ import annotations

from pathlib import Path

from flowc.cards.page import ASSETS, VEGA_SCRIPTS
from flowc.package import CARD_ASSETS, build_package

FLOWS = Path(__file__).parent / "flows"
HELLO = Path(__file__).resolve().parents[2] / "examples" / "hello_flow.py"


def test_assets_only_in_the_package_of_a_flow_with_cards() -> None:
    with_cards = build_package(FLOWS / "card_flow.py")
    assert {f"{CARD_ASSETS}{name}.min.js.gz" for name in VEGA_SCRIPTS} <= set(with_cards.files)
    without = build_package(HELLO)
    assert "flowc/cards/render.py" in with_cards.files
    assert not [name for name in without.files if name.startswith(CARD_ASSETS)]
    assert {"flowc/cards/client.py", "flowc/cards/store.py"} <= set(without.files)


def test_assets_are_pinned_and_licensed() -> None:
    versions = (ASSETS / "VERSIONS").read_text().split()
    assert {"vega@5.30.0", "vega-lite@5.21.0", "vega-embed@6.26.0"} <= set(versions)
    for name in VEGA_SCRIPTS:
        assert "Copyright" in (ASSETS / f"{name}.LICENSE").read_text()
