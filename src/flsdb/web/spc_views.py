"""An FLS's month-by-month charts as the dashboard shows them: each KPI's chart, its Making Data
Count variation and assurance icons, and what its signals mean in words with the months named.
The analysis of each KPI's months, and the choice of chart for it, come from `flsdb.figures.spc`
as the reports have them: a KPI with too few patients a month for process limits is charted by
quarter, or as a run chart of quarters about their median, with its rule stated."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Hashable
from typing import Any

import pandas as pd

from flsdb.dates import point_label
from flsdb.figures import Kept, PeriodFigures, unit_analysis
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
    "shift": "{count} {points} in a row {where} the mean (a shift)",
    "trend": "{count} {points} in a row each {higher} than the {point} before (a trend)",
    "two_of_three": "2 of 3 {points} close to the {side} limit",
    # A run chart's (Anhoej's rules): a run longer than chance allows.
    "run": "{count} {points} in a row {where} the median (a long run)",
}
# What each kind of chart's points are, and its caption's words.
POINTS = {"month": "month", "quarter": "quarter", "run": "quarter"}
CAPTIONS = {
    "month": "monthly percentage with mean and limits",
    "quarter": "quarterly percentage with mean and limits (too few patients a month)",
    "run": "run chart: quarterly percentage about the median (too few patients for limits)",
}


def _months_named(months: list[str], values: list[float], kind: str = "month") -> str:
    named = [f"{point_label(m, kind)} ({v:.0%})" for m, v in zip(months, values, strict=True)]
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


def signal_words(
    name: str, months: list[str], chart: Chart, direction: str, kind: str = "month"
) -> list[str]:
    """One sentence per run of points a rule marks: which months or quarters (named, with their
    values), what the rule saw, and whether it is an improvement or a concern."""
    labels = chart.labels(direction)  # type: ignore[arg-type]
    point = POINTS[kind]
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
                point=point,
                points=point + "s",
            )
            span = list(range(first, last + 1))
            named = _months_named(
                [months[i] for i in span], [float(chart.values[i]) for i in span], kind
            )
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

    def make() -> SpcViews:
        if published or frame is not data.monthly_service:
            return _spc_views(data, frame, unit, published)
        key = _content(data, frame, unit)
        return _BY_CONTENT.get(key, lambda: _spc_views(data, frame, unit, published))

    return data.view("spc views", which, unit, published, make=make)


# An FLS's charts in full by what they are made from (`_content`), kept across computations of
# the figures: a change to one FLS's records makes the whole figures again, but every other
# FLS's months are as they were, and so are its charts (about 60 ms of CPU each, which every
# FLS's page paid again after each change anywhere). A few hundred FLS pages' worth.
_BY_CONTENT = Kept(512)


def _content(data: PeriodFigures, frame: pd.DataFrame, unit: str) -> Hashable:
    """What an FLS's charts in full are made from, as a key: its own monthly rows (every column,
    by their values' repr, exact for the numbers, None and text they hold), the period, the
    extract date (which months are complete), the thresholds (limits, rules, targets) and the
    catalogue (names, directions, due windows); nothing of another FLS."""
    own = frame[frame["unit"].to_numpy() == unit]
    rows = repr((list(own.columns), own.to_numpy().tolist())).encode()
    return (
        "spc views in full",
        unit,
        data.period.label,
        data.as_of,
        repr(data.thresholds),
        repr(data.catalogue),
        hashlib.sha256(rows).hexdigest(),
    )


def _name_of(title: str) -> tuple[str, str]:
    kpi, _, name = title.partition(" ")
    return kpi, name


def _limit(value: float) -> float | None:
    """A line's value in percent (None where a run chart has no limits)."""
    return round(float(value) * 100, 1) if math.isfinite(value) else None


def _spc_views(data: PeriodFigures, frame: pd.DataFrame, unit: str, published: bool) -> SpcViews:
    shown = published_months(data, frame) if published else {}
    # The reports' analysis and choice of chart (month, quarter or run chart of quarters).
    analysed = unit_analysis(data, frame, unit, by_size=True)
    # How a small FLS's KPI is charted (by quarter, or as a run chart, and its rule) is said
    # with the signals; the notes on months not yet complete are folded beneath.
    notes: list[str] = []
    how: list[str] = []
    for a in analysed:
        said = [CODE_FIRST.sub("", note) for note in a.notes]
        if a.panel is not None and a.kind != "month" and a.months >= MIN_SPC_MONTHS:
            how.append(said.pop())
        notes += said
    too_few_words = [
        f"{_name_of(a.title)[1]}: {a.months} months with patients, too few for an SPC "
        f"chart (at least {MIN_SPC_MONTHS})."
        for a in analysed
        if a.panel is not None and a.months < MIN_SPC_MONTHS
    ]
    views, icons, words = [], {}, []
    for a in analysed:
        panel = a.panel
        if panel is None or a.months < MIN_SPC_MONTHS:
            continue
        kpi, name = _name_of(a.title)
        chart, kind = panel.chart, a.kind
        months = list(panel.months)
        words += signal_words(name, months, chart, panel.direction, kind)
        signal = any(chart.signals)
        # A run chart has no limits: its variation icon only where Anhoej's rules see a
        # signal, and no assurance (as the reports' table beside the charts has it).
        icons[kpi] = {
            "variation": panel.variation if kind != "run" or signal else "",
            "variation_words": VARIATION.get(panel.variation, panel.variation),
            "assurance": (panel.assurance or "") if kind != "run" else "",
            "assurance_words": ASSURANCE.get(panel.assurance or "", ""),
        }
        labels = chart.labels(panel.direction)  # type: ignore[arg-type]
        points = []
        for i, month in enumerate(months):
            point = {
                "month": month,
                "month_name": point_label(month, kind),
                "numerator": plain_number(panel.numerators[i]),
                "denominator": plain_number(panel.denominators[i]),
                "percent": round(float(chart.values[i]) * 100, 1),
                "centre": round(float(chart.centre[i]) * 100, 1),
                "lower": _limit(chart.lower[i]),
                "upper": _limit(chart.upper[i]),
                "signal": labels[i],
                "rules": ", ".join(chart.signals[i]) or "none",
            }
            # Published months are withheld month by month (a quarter's point is only drawn
            # for the FLS's own staff and the national team, who see the months in full).
            points.append(withhold(point, shown.get((unit, kpi, month))) if published else point)
        views.append(
            {
                "id": "spc-" + kpi,
                "kpi": kpi,
                "kind": kind,
                "title": name,
                "caption": f"{name}: {CAPTIONS[kind]}",
                "spec": charts.spc_spec(name, points, panel.target, POINTS[kind]),
                "points": points,
            }
        )
    if views and not words:
        words.append("No signal: every chart shows common cause variation only.")
    return views, how + words + too_few_words, notes, icons
