"""The SPC and funnel panels written as SVG directly: every point, limit and the FLS's own
diamond is where its figures put it, read back through the panel's own axis labels (as a reader
would read the chart); the text is at least 8 pt on the page; a grid's shared drawing is made
once."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest

from flsdb.dates import uk_month
from flsdb.figures import FUNNEL_KPIS, PeriodFigures
from flsdb.figures.spc import SpcPanel
from flsdb.reports.charts import FunnelGrid, SpcGrid, svg
from flsdb.reports.charts.funnel_grid import DIAMOND
from flsdb.reports.charts.spc import WIDTH
from flsdb.reports.fls import _funnel_grid
from flsdb.reports.national import titles
from flsdb.stats.spc import Rules, p_chart, variation_icon
from tests.reports.cases import CASES_GROUP, computed_case_figures

NUMBER = r"-?\d+(?:\.\d+)?"

pytestmark = CASES_GROUP  # the computed figures are made once per process


@pytest.fixture(scope="module")
def figures() -> PeriodFigures:
    return computed_case_figures()


def labelled(drawing: str) -> dict[str, list[tuple[float, float]]]:
    """Each text of a drawing with where it stands (x, baseline y)."""
    found: dict[str, list[tuple[float, float]]] = {}
    for x, y, words in re.findall(
        rf'<text x="({NUMBER})" y="({NUMBER})"[^>]*>([^<]*)</text>', drawing
    ):
        found.setdefault(words, []).append((float(x), float(y)))
    return found


def axis(pairs: list[tuple[float, float]]) -> tuple[float, float]:
    """The slope and offset taking a drawing position to a value, from two labelled ticks."""
    (p0, v0), (p1, v1) = pairs[0], pairs[-1]
    slope = (v1 - v0) / (p1 - p0)
    return slope, v0 - slope * p0


def dots(drawing: str) -> list[tuple[float, float]]:
    return [
        (float(x), float(y))
        for d in re.findall(
            r'<path d="([^"]*)" fill="none" stroke="[^"]*" stroke-width="[^"]*" '
            'stroke-linecap="round"',
            drawing,
        )
        for x, y in re.findall(rf"M ({NUMBER}) ({NUMBER}) h 0", d)
    ]


def test_spc_panel_draws_each_month_and_limit_where_its_figures_say() -> None:
    months = [f"2024-{m:02d}" for m in range(1, 13)]
    numerators = np.array([30, 34, 29, 41, 38, 36, 44, 40, 43, 47, 45, 60], dtype=float)
    denominators = np.array([50, 55, 48, 60, 58, 52, 61, 57, 60, 62, 59, 64], dtype=float)
    chart = p_chart(numerators, denominators, 6, Rules(shift=7, trend=7))
    panel = SpcPanel(
        months, list(numerators), list(denominators), chart, "higher", 80.0,
        variation_icon(chart, "higher"), None,
    )  # fmt: skip
    grid = SpcGrid(["kpi04 FLS assessment within 90 days", "kpi05 DXA"], months)
    drawing = grid.panel_svg(panel, lowest=True).decode()
    assert f'width="{WIDTH:g}pt"' in drawing
    texts = labelled(drawing)
    # The y axis read from its labels ('40%' at its tick; a label's baseline is 2.8 below it).
    ticks = [
        (y - 2.8, float(words[:-1]))
        for words, at in texts.items()
        if words.endswith("%")
        for _, y in at
    ]
    slope, offset = axis(sorted(ticks))
    drawn = sorted(dots(drawing))
    assert len(drawn) == 12
    read = [slope * y + offset for _, y in drawn]
    assert read == pytest.approx(list(numerators / denominators * 100), abs=0.02)
    # Evenly spaced months, in order, named under the lowest panels.
    gaps = np.diff([x for x, _ in drawn])
    assert gaps == pytest.approx([gaps[0]] * 11, abs=0.011) and gaps[0] > 0
    assert uk_month(months[0]) in texts and "Jan 2024" in texts
    # Each limit's steps: the level at each month is the figures' limit there.
    limits = re.findall(
        r'<path d="([^"]*)" fill="none" stroke="#444444" stroke-width="0.7" stroke-dasharray',
        drawing,
    )
    assert len(limits) == 2
    for d, expected in zip(limits, (chart.upper, chart.lower), strict=True):
        levels = [float(re.match(rf"M {NUMBER} ({NUMBER})", d).group(1))]  # type: ignore[union-attr]
        levels += [float(v) for v in re.findall(rf"V ({NUMBER})", d)]
        assert [slope * y + offset for y in levels] == pytest.approx(list(expected * 100), abs=0.02)
    # The target (80%) is drawn at its level.
    target = re.search(
        rf'<path d="M {NUMBER} ({NUMBER}) H {NUMBER}" fill="none" stroke="#009E73"', drawing
    )
    assert target and slope * float(target.group(1)) + offset == pytest.approx(80.0, abs=0.02)


def test_funnel_panels_place_every_published_fls_and_the_own_diamond(
    figures: PeriodFigures,
) -> None:
    grid = _funnel_grid(figures)
    assert _funnel_grid(figures) is grid  # made once per set of figures
    assert isinstance(grid, FunnelGrid)
    code = "FLS01"
    graphic = grid.render(code, "FLS 1")
    other = grid.render("FLS02", "FLS 2")
    assert [p.title for p in graphic.panels] == [titles(figures)[k] for k in FUNNEL_KPIS]
    checked = 0
    for kpi, panel, second in zip(FUNNEL_KPIS, graphic.panels, other.panels, strict=True):
        result = figures.inequities[kpi]
        drawing = panel.svg.decode()
        # The shared drawing is the same for both FLSs; only the diamond differs.
        assert drawing.split('<path d="M', 1)[0] == second.svg.decode().split('<path d="M', 1)[0]
        texts = labelled(drawing)
        y_ticks = [
            (y - 2.8, float(w[:-1].replace(",", "")))
            for w, at in texts.items()
            if w.endswith("%")
            for _, y in at
        ]
        # An x label is centred on its tick: the tick is half the label's width to its right.
        # The denominators are on a log scale (review item 11): read through their logarithms.
        x_ticks = [
            (x + svg.text_width(w) / 2, float(np.log10(float(w.replace(",", "")))))
            for w, at in texts.items()
            if not w.endswith("%")
            for x, _ in at
        ]
        if len(y_ticks) < 2 or len(x_ticks) < 2:
            continue
        y_slope, y_offset = axis(sorted(y_ticks))
        x_slope, x_offset = axis(sorted(x_ticks))
        n = np.asarray(result.denominators, dtype=float)
        shown = [
            i for i in range(len(n))
            if n[i] > 0 and result.shown[i] and np.isfinite(result.funnel.proportion[i])
        ]  # fmt: skip
        expected = sorted((float(n[i]), float(result.funnel.proportion[i] * 100)) for i in shown)
        read = sorted(
            (10 ** (x_slope * x + x_offset), y_slope * y + y_offset) for x, y in dots(drawing)
        )
        assert len(read) == len(expected)
        for (rn, rv), (en, ev) in zip(read, expected, strict=True):
            assert rn == pytest.approx(en, abs=max(0.5, en * 0.002))
            assert rv == pytest.approx(ev, abs=0.05)
        i = result.names.index(code)
        corner = re.search(rf'<path d="M ({NUMBER}) ({NUMBER}) L [^"]*Z" fill="#f0e442"', drawing)
        if np.isfinite(result.funnel.proportion[i]):
            assert corner is not None
            x, y = float(corner.group(1)), float(corner.group(2)) + DIAMOND
            assert 10 ** (x_slope * x + x_offset) == pytest.approx(
                float(n[i]), abs=max(0.5, n[i] * 0.002)
            )
            assert y_slope * y + y_offset == pytest.approx(
                result.funnel.proportion[i] * 100, abs=0.05
            )
            # The inner limits at the FLS's denominator are in its row of the table.
            low, high = result.funnel.limits_at([n[i]], result.funnel.levels[0])
            row = next(r for r in graphic.table.rows if r[0] == panel.title)
            assert row[4].startswith(f"{low[0]:.1%} to {high[0]:.1%}")
            checked += 1
    assert checked >= 5


def test_a_funnel_whose_national_value_is_withheld_is_not_drawn(
    figures: PeriodFigures,
) -> None:
    """Where an FLS's report withholds the England and Wales value (its own counts would show
    the other FLSs' small total), that KPI's funnel has no centre line, limits or points: each
    would show the value. The other panels are drawn as for any FLS."""
    grid = _funnel_grid(figures)
    full = grid.render("FLS01", "FLS 1")
    graphic = grid.render("FLS01", "FLS 1", frozenset({"kpi05"}))
    for kpi, panel, drawn in zip(FUNNEL_KPIS, graphic.panels, full.panels, strict=True):
        if kpi != "kpi05":
            assert panel.svg == drawn.svg
            continue
        drawing = panel.svg.decode()
        assert "<path" not in drawing and "stroke-dasharray" not in drawing
        assert set(labelled(drawing)) == {"England and Wales", "value withheld"}
        assert "withheld" in panel.alt
        assert panel.table is not None and panel.table.rows[0][1:4] == ("", "", "")
    assert not any(r[0] == titles(figures)["kpi05"] and r[1] for r in graphic.table.rows)


def test_panel_text_is_8_pt_on_the_page_and_styled_once() -> None:
    drawing = svg.document(
        255, 80, [svg.text(10, 10, "50%"), svg.text(20, 20, "60%", "end")]
    ).decode()
    assert drawing.count("font-size: 8px") == 1 and drawing.count("<text") == 2
    assert 'width="255pt"' in drawing and 'viewBox="0 0 255 80"' in drawing


def test_anchored_text_is_placed_by_its_width() -> None:
    # '100%' in DejaVu Sans at 8 pt: three digits and a percent sign, 3 * 1303 + 1946 units.
    width = (3 * 1303 + 1946) * 8 / 2048
    assert svg.text_width("100%") == pytest.approx(width)
    assert svg.text(50, 10, "100%", "end") == f'<text x="{50 - width:.2f}" y="10.00">100%</text>'
    assert svg.text(50, 10, "100%", "middle").startswith(f'<text x="{50 - width / 2:.2f}"')
    # Anchored by its start: nothing for the PDF writer to group.
    assert "text-anchor" not in svg.text(50, 10, "100%", "middle")


def test_nice_ticks_are_round_and_inside_the_range() -> None:
    assert svg.nice_ticks(0, 5800, 3) == [0, 5000]
    assert svg.nice_ticks(0, 100, 3) == [0, 50, 100]
    assert svg.nice_ticks(12.5, 61, 3) == [25, 50]
    assert svg.nice_ticks(5, 5) == [5]


def _distance(point: tuple[float, float], polyline: list[tuple[float, float]]) -> float:
    """How far a point is from the nearest segment of a polyline."""
    px, py = point
    best = float("inf")
    for (x0, y0), (x1, y1) in itertools.pairwise(polyline):
        dx, dy = x1 - x0, y1 - y0
        t = max(0.0, min(1.0, ((px - x0) * dx + (py - y0) * dy) / (dx * dx + dy * dy or 1.0)))
        best = min(best, float(np.hypot(px - (x0 + t * dx), py - (y0 + t * dy))))
    return best


def test_a_smooth_curve_is_drawn_with_fewer_points_within_its_tolerance() -> None:
    # A funnel's upper limit: steep at small denominators, level at large ones.
    xs = list(np.linspace(20.0, 160.0, 28))
    ys = [10 + 40 / np.sqrt(x - 15) for x in xs]
    drawn = svg.line(xs, ys, svg.CURVE_TOLERANCE)
    kept = [(float(x), float(y)) for x, y in re.findall(rf"[ML] ({NUMBER}) ({NUMBER})", drawn)]
    assert drawn.startswith("M ") and drawn.count("M") == 1
    assert 3 <= len(kept) < 20
    assert kept[0] == pytest.approx((xs[0], ys[0]), abs=0.005)
    assert kept[-1] == pytest.approx((xs[-1], ys[-1]), abs=0.005)
    # Every computed point is within the tolerance (and the 2-decimal rounding) of the line.
    assert max(_distance(p, kept) for p in zip(xs, ys, strict=True)) <= svg.CURVE_TOLERANCE + 0.01
    # Without a tolerance every point is drawn; a gap still breaks the line.
    assert svg.line(xs, ys).count("L") == 27
    broken = svg.line([0, 1, 2, 3, 4], [5, 5, float("nan"), 6, 6], svg.CURVE_TOLERANCE)
    assert broken == "M 0.00 5.00 L 1.00 5.00 M 3.00 6.00 L 4.00 6.00"
    # A level line (an SPC centre line) is drawn by its ends and its changes only.
    level = svg.line([0, 1, 2, 3, 4, 5], [5, 5, 5, 7, 7, 7], svg.CURVE_TOLERANCE)
    assert level == "M 0.00 5.00 L 2.00 5.00 L 3.00 7.00 L 5.00 7.00"


def test_limit_steps_change_half_way_with_one_level_segment_each() -> None:
    d = svg.steps([0, 10, 20, 30, 40], [1, 2, float("nan"), 4, 5])
    assert d == "M 0.00 1.00 H 5.00 V 2.00 H 10.00 M 30.00 4.00 H 35.00 V 5.00 H 40.00"
    # A point alone (between gaps) is a move only, as before: nothing drawn.
    assert svg.steps([0, 10, 20], [1, float("nan"), 4]) == "M 0.00 1.00 M 20.00 4.00"


def test_spc_icons_are_coloured_by_the_stylesheet_not_a_style_attribute() -> None:
    from importlib import resources

    from flsdb.reports.charts import icon
    from flsdb.reports.charts.spc import ICON_CLASSES

    css = resources.files("flsdb.reports").joinpath("templates/style.css").read_text("utf-8")
    for colour, name in ICON_CLASSES.items():
        assert f".{name} {{ color: {colour}; }}" in css
        drawn = icon("P", colour)
        assert drawn == f'<span class="icon {name}">P</span>' and "style=" not in drawn
