"""An FLS's month-by-month charts as the dashboard shows them: each KPI's chart, its Making Data
Count variation and assurance icons, and what its signals mean in words with the months named
(the analysis of each KPI's months comes from `flsdb.figures.spc`)."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from flsdb.dates import uk_month
from flsdb.figures import PeriodFigures, unit_analysis
from flsdb.sheets import plain_number
from flsdb.stats.spc import Chart
from flsdb.web import charts
from flsdb.web.published import published_months, withhold

CODE_FIRST = re.compile(r"^[a-z]+\d+ ")
MIN_SPC_MONTHS = 12  # fewer points cannot tell a signal from chance

# The NHS England Making Data Count icons' meanings (the icons are drawn by `_charts.html`).
VARIATION = {
    "common": "Common cause variation: no significant change",
    "improvement_high": "Special cause variation, improving: higher values",
    "improvement_low": "Special cause variation, improving: lower values",
    "concern_high": "Special cause variation, of concern: higher values",
    "concern_low": "Special cause variation, of concern: lower values",
    "neither_high": "Special cause variation: higher values",
    "neither_low": "Special cause variation: lower values",
}
ASSURANCE = {
    "pass": "The target is consistently met (it lies beyond the limits, on the good side)",
    "fail": "The target is consistently missed: the process must change to meet it",
    "hit_and_miss": "Hit and miss: the target lies between the limits, met in some months "
    "and missed in others",
}
RULES = {
    "outside": "{where} the control limits",
    "shift": "{count} months in a row {where} the mean (a shift)",
    "trend": "{count} months in a row each {higher} than the month before (a trend)",
    "two_of_three": "2 of 3 months close to the {side} limit",
}


def _months_named(months: list[str], values: list[float]) -> str:
    named = [f"{uk_month(m)} ({v:.0%})" for m, v in zip(months, values, strict=True)]
    if len(named) > 4:  # a long run: its ends
        return f"{named[0]} to {named[-1]}"
    return named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]


def _episodes(marked: list[bool]) -> list[tuple[int, int]]:
    runs, start = [], None
    for i, on in enumerate([*marked, False]):
        if on and start is None:
            start = i
        elif not on and start is not None:
            runs.append((start, i - 1))
            start = None
    return runs


def signal_words(name: str, months: list[str], chart: Chart, direction: str) -> list[str]:
    """One sentence per run of months a rule marks: which months (named, with their values),
    what the rule saw, and whether it is an improvement or a concern."""
    labels = chart.labels(direction)  # type: ignore[arg-type]
    out = []
    for rule, text in RULES.items():
        marked = [rule in s for s in chart.signals]
        for first, last in _episodes(marked):
            side = chart.sides[last]
            what = text.format(
                where="above" if side > 0 else "below",
                count=last - first + 1,
                higher="higher" if side > 0 else "lower",
                side="upper" if side > 0 else "lower",
            )
            span = list(range(first, last + 1))
            named = _months_named([months[i] for i in span], [float(chart.values[i]) for i in span])
            verdict = {"improvement": "an improvement", "concern": "a concern"}.get(
                labels[last], "a change, neither better nor worse"
            )
            out.append(f"{name}: {named}, {what}: {verdict}.")
    return out


SpcViews = tuple[list[dict[str, Any]], list[str], list[str], dict[str, dict[str, str]]]


def spc_views(
    data: PeriodFigures, frame: pd.DataFrame, unit: str, published: bool = False
) -> SpcViews:
    """One SPC chart per KPI (its spec and its table), the signals in words, what was left out
    of the charts (months not yet complete, too few months), and each KPI's icons ({kpi:
    {variation, assurance}}). Published: a month whose count is withheld shows
    `<5` or `c`, and no percentage or limits (which would give its counts back)."""
    which = "nation" if frame is data.monthly_nation else "service"
    return data.view(
        "spc views", which, unit, published, make=lambda: _spc_views(data, frame, unit, published)
    )


def _name_of(title: str) -> tuple[str, str]:
    kpi, _, name = title.partition(" ")
    return kpi, name


def _spc_views(data: PeriodFigures, frame: pd.DataFrame, unit: str, published: bool) -> SpcViews:
    shown = published_months(data, frame) if published else {}
    analysed = unit_analysis(data, frame, unit)
    panels = {a.title: a.panel for a in analysed if a.panel is not None}
    too_few = {t: p for t, p in panels.items() if len(p.months) < MIN_SPC_MONTHS}
    # The notes on months not yet complete (and KPIs with too few months), in names; the
    # signals are said below, with the months named.
    words = [CODE_FIRST.sub("", note) for a in analysed for note in a.notes]
    # What was left out (months not yet complete) is folded beneath; the signals come first,
    # then the KPIs with too few months for a chart.
    notes, words = words, []
    too_few_words = [
        f"{_name_of(title)[1]}: {len(panel.months)} months with patients, too few for an SPC "
        f"chart (at least {MIN_SPC_MONTHS})."
        for title, panel in too_few.items()
    ]
    views, icons = [], {}
    for title, panel in panels.items():
        if title in too_few:
            continue
        kpi, name = _name_of(title)
        chart = panel.chart
        months = list(panel.months)
        words += signal_words(name, months, chart, panel.direction)
        icons[kpi] = {
            "variation": panel.variation,
            "variation_words": VARIATION.get(panel.variation, panel.variation),
            "assurance": panel.assurance or "",
            "assurance_words": ASSURANCE.get(panel.assurance or "", ""),
        }
        labels = chart.labels(panel.direction)  # type: ignore[arg-type]
        points = []
        for i, month in enumerate(months):
            point = {
                "month": month,
                "month_name": uk_month(month),
                "numerator": plain_number(panel.numerators[i]),
                "denominator": plain_number(panel.denominators[i]),
                "percent": round(float(chart.values[i]) * 100, 1),
                "centre": round(float(chart.centre[i]) * 100, 1),
                "lower": round(float(chart.lower[i]) * 100, 1),
                "upper": round(float(chart.upper[i]) * 100, 1),
                "signal": labels[i],
                "rules": ", ".join(chart.signals[i]) or "none",
            }
            points.append(withhold(point, shown.get((unit, kpi, month))) if published else point)
        views.append(
            {
                "id": "spc-" + kpi,
                "kpi": kpi,
                "title": name,
                "spec": charts.spc_spec(name, points, panel.target),
                "points": points,
            }
        )
    if views and not words:
        words.append("No signal: every chart shows common cause variation only.")
    return views, words + too_few_words, notes, icons
