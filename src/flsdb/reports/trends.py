"""Trends: every KPI nationally in each year since the earliest in the store, and a test of the
change from last year to this one on the published national counts.

Proportions are compared with the two-proportion z-test (pooled), identification (kpi02, records
over an expected caseload) with the Poisson log rate-ratio test; both two-sided at the 5% level.
kpi01 counts fields (nationally, FLSs) and is not tested. The tests use published counts only, so
a withheld count gives no test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flsdb.disclosure import is_hidden
from flsdb.stats.change import Change, two_proportions, two_rates

if TYPE_CHECKING:
    from flsdb.figures import PeriodFigures

ALPHA = 0.05
METHOD = (
    "Change from last year: the two-proportion z-test (pooled proportion, two-sided) for the "
    "proportion KPIs; for identification (kpi02 and its spine and non-spine parts) the Poisson "
    "log rate-ratio test on records over the expected caseload. A change is called significant "
    f"when p < {ALPHA:g}. Each KPI is tested once, with no correction for the number of tests: "
    "about one in twenty tests of a KPI that did not change would still come out significant. "
    "kpi01 counts key fields (nationally, FLSs with complete data) and is not tested. Follow-up "
    "KPIs count only patients due by the extract date, so this year's may still change."
)


@dataclass(frozen=True)
class TrendRow:
    kpi: str
    name: str
    cells: tuple[dict[str, object], ...]  # the published national row of each year ({}: none)
    change: Change | None
    verdict: str  # in words: "higher (p = 0.002)", "no significant change (p = 0.41)", ...

    @property
    def difference(self) -> str:
        if self.change is None:
            return ""
        difference = self.change.difference
        return "0.0" if abs(difference) < 0.05 else f"{difference:+.1f}"


def _counts(row: dict[str, object]) -> tuple[float, float] | None:
    n, d = row.get("numerator"), row.get("denominator")
    if n is None or d is None or is_hidden(n) or is_hidden(d):
        return None
    return float(n), float(d)  # type: ignore[arg-type]


def absent(value: object) -> bool:
    """No value: None, or a float NaN (a percentage with a denominator of 0)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def p_text(p: float) -> str:
    """'p < 0.001', or p to two significant figures."""
    return "p < 0.001" if p < 0.001 else f"p = {p:.2g}" if p < 0.1 else f"p = {p:.2f}"


def test_change(kind: str, earlier: dict[str, object], later: dict[str, object]) -> Change | None:
    """The test of change between two published rows of one KPI (None: no test)."""
    before, after = _counts(earlier), _counts(later)
    if before is None or after is None or kind == "completeness":
        return None
    if kind == "caseload":
        return two_rates(before[0], before[1], after[0], after[1])
    return two_proportions(before[0], before[1], after[0], after[1])


def verdict(change: Change | None, kind: str, direction: str) -> str:
    """The change in words, with its p-value and, when significant, whether it is better."""
    if kind == "completeness":
        return "not tested (counts key fields)"
    if change is None:
        return "no test (no counts for both years)"
    if not change.significant(ALPHA):
        return f"no significant change ({p_text(change.p)})"
    higher = change.z > 0
    words = "higher" if higher else "lower"
    if direction in ("higher", "lower"):
        better = higher == (direction == "higher")
        words += ", better" if better else ", worse"
    return f"{words} ({p_text(change.p)})"


def trend_rows(data: PeriodFigures, unit: str = "all") -> tuple[list[str], list[TrendRow]]:
    """The years in the store up to the period, and one row per KPI for a nation."""
    table = data.years[data.years["unit"] == unit]
    years = [str(y) for y in sorted(table["period"].unique())]
    rows = []
    for kpi in data.catalogue.kpi_ids:
        indexed = {
            str(r["period"]): {str(k): v for k, v in r.items()}
            for r in table[table["kpi"] == kpi].to_dict("records")
        }
        cells = tuple(indexed.get(y, {}) for y in years)
        measure = data.measure(kpi)
        change = test_change(measure.kind, cells[-2], cells[-1]) if len(cells) > 1 else None
        words = verdict(change, measure.kind, measure.direction) if len(cells) > 1 else ""
        rows.append(TrendRow(kpi, data.name(kpi), cells, change, words))
    return years, rows


def trend_summary(rows: list[TrendRow]) -> dict[str, list[str]]:
    """The KPIs whose change from last year is significant, better or worse (for the summary)."""
    out: dict[str, list[str]] = {"better": [], "worse": [], "changed": []}
    for row in rows:
        if row.change is None or not row.change.significant(ALPHA):
            continue
        key = (
            "better"
            if ", better" in row.verdict
            else "worse"
            if ", worse" in row.verdict
            else "changed"
        )
        out[key].append(f"{row.name} ({row.difference} points, {p_text(row.change.p)})")
    return out


def participation_by_year(
    data: PeriodFigures, years: list[str], unit: str = "all"
) -> list[list[str]]:
    """Two rows for the trends table: FLSs with records (kpi01's denominator for a nation) and
    records (kpi03's) in each year, as published."""
    table = data.years[data.years["unit"] == unit]
    rows = []
    for label, kpi in (("FLSs taking part", "kpi01"), ("records", "kpi03")):
        cells = []
        for year in years:
            found = table[(table["period"] == year) & (table["kpi"] == kpi)]
            value = found["denominator"].iloc[0] if len(found) else None
            text = "" if absent(value) else str(value)
            if not absent(value) and not is_hidden(value):
                text = f"{float(str(value)):,.0f}"
            cells.append(text)
        rows.append([label, *cells])
    return rows
