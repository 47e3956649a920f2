"""The dashboards' charts read one way (review item 18): blue and orange mean improvement and
concern (the SPC points' Making Data Count colours) and nothing else; high and low beyond a
funnel's limits take the same two; 'this FLS' is in a funnel's legend only where one is drawn;
a bar chart's words are its figure's caption alone (not a title above it as well)."""

from __future__ import annotations

import re

from flsdb.web import charts
from tests.web.conftest import Site

POINT = {"name": "A", "numerator": 5, "denominator": 10, "percent": 50.0, "words": "inside"}
LIMITS = [{"denominator": 10, "value": 20.0, "level": "95%", "line": "95% low"}]


def _layer_colours(spec: dict[str, object]) -> list[str]:
    return [
        layer["mark"]["color"]  # type: ignore[index]
        for layer in spec["layer"]  # type: ignore[attr-defined]
        if isinstance(layer["mark"], dict) and "color" in layer["mark"]
    ]


def test_the_spc_line_is_not_drawn_in_a_signals_colour() -> None:
    spec = charts.spc_spec("Falls assessment", [], 80.0)
    signal = {charts.SIGNAL_COLOURS["improvement"], charts.SIGNAL_COLOURS["concern"]}
    assert not signal & set(_layer_colours(spec))


def test_funnel_flags_use_the_spc_colours_and_no_green_or_red() -> None:
    colours = charts.FLAG_COLOURS
    assert colours["alert, high"] == charts.SIGNAL_COLOURS["improvement"]
    assert colours["alert, low"] == charts.SIGNAL_COLOURS["concern"]
    assert colours["inside"] == charts.SIGNAL_COLOURS["neutral"]
    for value in colours.values():  # green and red are the RAG ratings'
        red, green, blue = (int(value[i : i + 2], 16) for i in (1, 3, 5))
        assert not (green > red + 40 and green > blue + 40), value
        assert not (red > 150 and green < 60 and blue < 60), value


def test_this_fls_is_in_the_legend_only_where_it_is_drawn() -> None:
    nation = charts.funnel_spec("kpi", [{**POINT, "flag": "inside"}], LIMITS, 50.0)
    own = charts.funnel_spec("kpi", [{**POINT, "flag": "this FLS"}], LIMITS, 50.0)

    def domain(spec: dict[str, object]) -> list[str]:
        layer = spec["layer"][-1]  # type: ignore[index]
        return list(layer["encoding"]["color"]["scale"]["domain"])

    assert "this FLS" not in domain(nation)
    assert "this FLS" in domain(own)


def test_a_bar_chart_has_no_title_beside_its_caption(site: Site) -> None:
    nurse = site.client("nurse")
    page = nurse.get("/fls/FLS01", params={"period": "2024"}).text
    for chart in ("completeness", "mix"):
        spec = nurse.get(f"/charts/fls/FLS01/{chart}", params={"period": "2024"}).json()
        assert "title" not in spec, spec.get("title")
        caption = re.search(rf'id="{chart}"[^>]*aria-label="([^"]+)"', page)
        assert caption is not None and f"<figcaption>{caption.group(1)}</figcaption>" in page
