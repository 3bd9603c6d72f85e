"""Card components render self-contained, escaped HTML; a broken one shows why instead of failing."""

from __future__ import annotations

import base64
import json
import re

import pytest

from flowc.cards import (
    Artifact,
    Error,
    Image,
    Markdown,
    ProgressBar,
    PythonCode,
    Table,
    ValueBox,
    VegaChart,
)
from flowc.cards.page import card_page
from tests.cards.flows.card_flow import CHART, PNG


def test_markdown_renders_and_escapes() -> None:
    html = Markdown("# Title\n\nSome *text* and **bold** `code` <script>x</script>\n\n- a\n- b").render()
    assert "<h1>Title</h1>" in html and "<em>text</em>" in html and "<strong>bold</strong>" in html
    assert "<code>code</code>" in html and "<li>a</li><li>b</li>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="javascript' not in Markdown("[x](javascript:alert(1))").render()


def test_markdown_update() -> None:
    component = Markdown("old")
    component.update("new")
    assert "new" in component.render() and "old" not in component.render()


def test_table_rows_headers_and_component_cells() -> None:
    html = Table([[1, "<b>"], [Markdown("*m*"), 2.5]], headers=["a", "b"]).render()
    assert html.count("<tr>") == 3 and "<th>a</th><th>b</th>" in html
    assert "&lt;b&gt;" in html and "<em>m</em>" in html


def test_table_from_dataframe() -> None:
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame({"x": range(150), "y": ["v"] * 150})
    assert Table.from_dataframe(frame).render().count("<tr>") == 101  # header + 100 rows
    assert Table.from_dataframe(frame, truncate=False).render().count("<tr>") == 151


def test_image_from_bytes_is_a_data_url() -> None:
    html = Image(PNG, label="pixels").render()
    encoded = re.search(r'src="data:image/png;base64,([^"]+)"', html).group(1)
    assert base64.b64decode(encoded) == PNG and "<figcaption>pixels</figcaption>" in html


def test_image_that_is_not_one_says_so() -> None:
    html = Image(b"not an image").render()
    assert 'class="fc-error"' in html and "not an image" in html


def test_image_from_pil() -> None:
    pil = pytest.importorskip("PIL.Image")
    assert "data:image/png;base64," in Image.from_pil_image(pil.new("RGB", (3, 3))).render()
    assert "data:image/png;base64," in Image(pil.new("RGB", (3, 3))).render()


def test_image_from_matplotlib() -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots()
    axes.plot([1, 2, 3])
    assert "data:image/png;base64," in Image.from_matplotlib(figure).render()


def test_vega_chart_carries_its_spec() -> None:
    html = VegaChart(CHART).render()
    payload = re.search(r'<script type="application/json" class="fc-vega-spec">(.*?)</script>', html).group(1)
    assert json.loads(payload)["spec"] == CHART
    tricky = VegaChart({"title": "</script><script>alert(1)</script>"}).render()
    assert tricky.count("</script>") == 1


def test_vega_chart_from_altair() -> None:
    altair = pytest.importorskip("altair")
    chart = altair.Chart(altair.Data(values=[{"a": 1}])).mark_point().encode(x="a:Q")
    assert '"mark"' in VegaChart.from_altair_chart(chart).render()


def test_progress_bar_and_value_box_update() -> None:
    bar = ProgressBar(max=10, label="steps")
    bar.update(4, metadata="almost")
    assert 'value="4.0"' in bar.render() and "almost" in bar.render()
    box = ValueBox(title="Accuracy", value=0.9, theme="success")
    box.update(value=0.95)
    assert "0.95" in box.render() and "fc-theme-success" in box.render()
    with pytest.raises(ValueError):
        ValueBox(theme="rainbow")


def test_artifact_previews() -> None:
    assert "{&#x27;k&#x27;: [1, 2]}" in Artifact({"k": [1, 2]}).render()
    numpy = pytest.importorskip("numpy")
    html = Artifact(numpy.arange(6).reshape(2, 3), name="m").render()
    assert "shape (2, 3)" in html and "[3 4 5]" in html


def test_python_code_and_error() -> None:
    def sample() -> int:
        return 42

    assert "return 42" in PythonCode(sample).render()
    assert "&#x27;hi&#x27;" in PythonCode(code_string="print('hi')").render()
    try:
        raise KeyError("missing")
    except KeyError as exc:
        html = Error(exc, title="Loading failed").render()
    assert "Loading failed" in html and "KeyError" in html


def test_json_and_yaml_viewers() -> None:
    from flowc.cards import JSONViewer, YAMLViewer

    assert "&quot;k&quot;: [\n    1" in JSONViewer({"k": [1]}, title="config").render()
    assert "k:\n- 1" in YAMLViewer({"k": [1]}, collapsible=False).render()


def test_events_timeline_newest_first_with_payloads() -> None:
    from flowc.cards import EventsTimeline

    events = EventsTimeline(title="Steps", max_events=2)
    for i in range(3):
        events.update(
            {"item": i, "status": "<done>"}, style_theme="success", payloads={"note": Markdown(f"*{i}*")}
        )
    events.update({"item": 3}, finished=True)
    html = events.render()
    assert "4 events, finished" in html and html.index("<td>3</td>") < html.index("<td>2</td>")
    assert "<td>1</td>" not in html and "&lt;done&gt;" in html and "<em>2</em>" in html
    with pytest.raises(TypeError):
        events.update({"x": 1}, payloads={"chart": VegaChart(CHART)})


def test_vega_is_embedded_only_in_a_page_with_a_chart() -> None:
    assert "vegaEmbed(" not in card_page("t", Markdown("x").render())
    page = card_page("t", VegaChart(CHART).render())
    assert "vegaEmbed(" in page and "<script src=" not in page and "cdn" not in page.lower()
