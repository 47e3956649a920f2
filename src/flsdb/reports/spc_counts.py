"""The national SPC charts' counts as published, in the intruder's audit with the KPI tables.

Beside each national SPC chart the report prints every point's patients (the month's or
quarter's numerator and denominator) and draws its percentage. Those counts are published as
much as the KPI tables' are, and tied to them: the points of the period add up to the period's
national count (printed in the KPI tables), the points of an earlier year to that year's
(printed in the trend table), and each numerator lies within its denominator. One point
withheld beside a printed total would be that total less the points shown.

So each point is withheld by the KPI tables' own rule (a count of 1 to 4, and a numerator
beside a small denominator or a small difference from it: `points`), put in the audit's model
with those relations (`add_points`: `flsdb.disclosure.linked`), and withheld further where the
audit still narrows a count (the linked search chooses the smallest point tied to it). The
report then prints a withheld point's counts as their markers and draws no value or limits for
it (`published_panel`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from flsdb.disclosure import WITHHELD
from flsdb.disclosure.linked import Linked, Term
from flsdb.figures.spc import SpcPanel, unit_analysis
from flsdb.reports.ties import tie

if TYPE_CHECKING:
    from flsdb.figures import PeriodFigures

COLUMNS = ("numerator", "denominator")


@dataclass(frozen=True)
class Point:
    """One point of a national SPC chart: its KPI, its month (a quarter's last month), and its
    counts as computed."""

    kpi: str
    month: str
    numerator: float
    denominator: float

    def name(self, column: str) -> str:
        return f"spc:{self.kpi}:{self.month}:{column}"


def points(data: PeriodFigures) -> list[Point]:
    """Every point the national report's SPC charts print, in chart order."""
    found = []
    for analysis in unit_analysis(data, data.monthly_nation, "all", by_size=True):
        panel = analysis.panel
        if panel is None:
            continue
        for month, numerator, denominator in zip(
            panel.months, panel.numerators, panel.denominators, strict=True
        ):
            found.append(Point(analysis.kpi, str(month), float(numerator), float(denominator)))
    return found


def primary(point: Point, data: PeriodFigures) -> tuple[object, object]:
    """A point's (numerator, denominator) as the KPI tables' rule publishes them: a count of
    1 to 4 as `<5`; a numerator beside a denominator of 1 to 4, or 1 to 4 short of it, as its
    marker too (`<5`, or `c` when it is not itself small)."""
    policy = data.thresholds.suppression
    numerator, denominator = point.numerator, point.denominator

    def mark(value: float) -> str:
        return policy.label if policy.small(value) else WITHHELD

    shown_denominator: object = mark(denominator) if policy.small(denominator) else denominator
    hide = policy.small(numerator) or policy.small(denominator)
    if policy.complement:
        hide |= policy.small(denominator - numerator)
    return (mark(numerator) if hide else numerator), shown_denominator


def _by_year(data: PeriodFigures, found: list[Point]) -> dict[tuple[str, str, str], list[Point]]:
    """The points by (KPI, year, column) their counts add up to: "period" for the period's
    (its national count is the KPI tables'), else the calendar year (the trend table's)."""
    start, end = f"{data.period.start:%Y-%m}", f"{data.period.end:%Y-%m}"
    groups: dict[tuple[str, str, str], list[Point]] = {}
    for point in found:
        year = "period" if start <= point.month <= end else point.month[:4]
        for column in COLUMNS:
            groups.setdefault((point.kpi, year, column), []).append(point)
    return groups


def published(data: PeriodFigures, found: list[Point]) -> dict[str, object]:
    """The counts of the points `found` by name as `primary` publishes them, except where an
    earlier year's printed count leaves its small points no room: points of 1 to 4 marked
    `<5` each hold at least 1, so beside a year's count of 5 three of them (1, 3 and 1, say)
    could be at most 3 each, which tells a reader more than `<5` allows, and the year's count
    is printed in the trend table. Those points are printed as withheld (`c`: 0 or more)."""
    policy = data.thresholds.suppression
    shown: dict[str, object] = {}
    for point in found:
        for column, mark in zip(COLUMNS, primary(point, data), strict=True):
            shown[point.name(column)] = mark
    for (kpi, year, column), members in _by_year(data, found).items():
        total = _year_count(data, year, kpi, column) if year != "period" else None
        if total is None or isinstance(total[1], str):
            continue
        names = [point.name(column) for point in members]
        small = [name for name in names if shown[name] == policy.label]
        exact = sum(
            getattr(point, column)
            for point, name in zip(members, names, strict=True)
            if not isinstance(shown[name], str)
        )
        if small and total[0] - exact - (len(small) - 1) < policy.below - 1:
            shown.update((name, WITHHELD) for name in small)
    return shown


def add_points(data: PeriodFigures, linked: Linked) -> None:
    """The national SPC points in the audit's model: each count as `published` prints it,
    within its denominator, and the points of each year adding up to that year's national
    count (the period's in the KPI tables; an earlier year's as the trend table prints it)."""
    found = points(data)
    if not found:
        return
    marked = published(data, found)
    for point in found:
        for column in COLUMNS:
            name = point.name(column)
            linked.add(name, getattr(point, column), marked[name])
            if marked[name] == WITHHELD:
                linked.unmarked.add(name)  # printed `c` even when withheld further: 0 or more
        linked.nested.append((point.name("numerator"), point.name("denominator")))
    for (kpi, year, column), members in _by_year(data, found).items():
        total: Term
        if year == "period":
            total = ("nation", "all", kpi, column)
        else:
            found_year = _year_count(data, year, kpi, column)
            if found_year is None:
                continue
            total = f"year:{year}:{kpi}:{column}"
            if total not in linked.values:
                linked.add(total, *found_year)
                linked.fixed.add(total)
        tie(data, linked, tuple(point.name(column) for point in members), (total,))


def _year_count(
    data: PeriodFigures, year: str, kpi: str, column: str
) -> tuple[float, object] | None:
    """An earlier year's national count (as computed, and as the trend table prints it)."""
    computed, shown = data.years_computed, data.years
    if computed is None or shown is None:
        return None
    keys = ("period", "level", "unit", "kpi")
    wanted = (year, "nation", "all", kpi)
    rows = []
    for frame in (computed, shown):
        match = [frame[k].astype(str) == v for k, v in zip(keys, wanted, strict=True)]
        rows.append(frame[np.logical_and.reduce(match)])
    if any(len(r) != 1 for r in rows):
        return None
    value = rows[0][column].iloc[0]
    if value is None or value != value:
        return None
    return float(value), rows[1][column].iloc[0]


def marks(data: PeriodFigures) -> dict[tuple[str, str], tuple[object, object]]:
    """Per national SPC point (kpi, month) whose counts are withheld, their markers as
    printed: by `published`, or further by the audit (`PeriodFigures.linked_withheld`)."""
    if not data.suppression:
        return {}
    policy = data.thresholds.suppression
    further = data.linked_withheld
    out: dict[tuple[str, str], tuple[object, object]] = {}
    found = points(data)
    marked = published(data, found)
    for point in found:
        shown = [marked[point.name(column)] for column in COLUMNS]
        for i, column in enumerate(COLUMNS):
            value = getattr(point, column)
            if point.name(column) in further and not isinstance(shown[i], str):
                shown[i] = policy.label if policy.small(value) else WITHHELD
        if any(isinstance(s, str) for s in shown):
            out[(point.kpi, point.month)] = (shown[0], shown[1])
    return out


def published_panel(
    panel: SpcPanel, kpi: str, withheld: dict[tuple[str, str], tuple[object, object]]
) -> SpcPanel:
    """The panel as published: a withheld point's counts as their markers, and no value,
    limits or signal drawn for it."""
    hidden = [i for i, month in enumerate(panel.months) if (kpi, str(month)) in withheld]
    if not hidden:
        return panel
    chart = panel.chart
    values, lower, upper = (
        np.array(a, dtype=float) for a in (chart.values, chart.lower, chart.upper)
    )
    signals = [list(s) for s in chart.signals]
    sides = list(chart.sides)
    for i in hidden:
        values[i] = lower[i] = upper[i] = np.nan
        signals[i] = []
        if i < len(sides):
            sides[i] = 0
    drawn = replace(chart, values=values, lower=lower, upper=upper, signals=signals, sides=sides)
    marks = tuple(withheld.get((kpi, str(month))) for month in panel.months)
    return replace(panel, chart=drawn, marks=marks)
