"""Monthly SPC analysis for one unit (the nation, or an FLS): each KPI's points, chart, Making Data
Count variation and assurance, and notes on what was left out. The reports draw the panels
(`reports/spc_panels.py`), the dashboards chart them as Vega-Lite (`web/spc_views.py`).

Process limits need enough patients a point: a KPI whose median monthly denominator is below the
threshold (`spc.min_denominator`) is charted by quarter (each quarter drawn at its last month),
and if the quarters are still too small, as a run chart of the quarters about their median with
Anhoej's rules (an unusually long run on one side, too few crossings), which need no limits. The
notes say which chart each KPI has and why."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from flsdb.config import SpcSettings
from flsdb.dates import uk_month
from flsdb.figures.model import FUNNEL_KPIS, PeriodFigures
from flsdb.kpi.catalogue import Catalogue
from flsdb.stats.spc import (
    Assurance,
    Chart,
    Rules,
    RunAnalysis,
    Variation,
    assurance_icon,
    laney_p_chart,
    p_chart,
    run_chart,
    variation_icon,
)

SPC_KPIS = ("kpi04", "kpi05", "kpi06", "kpi07", "kpi08", "kpi09", "kpi10", "kpi11", "fa01", "kpi03")
assert set(SPC_KPIS) <= set(FUNNEL_KPIS)


@dataclass(frozen=True)
class SpcPanel:
    """One KPI's chart for one unit."""

    months: Sequence[str]
    numerators: Sequence[float]
    denominators: Sequence[float]
    chart: Chart
    direction: str
    target: float | None  # percent
    variation: Variation
    assurance: Assurance | None
    # As published (the national charts): per point, the markers its withheld counts are
    # printed as (numerator, denominator), or None where it is shown (`reports.spc_counts`).
    marks: tuple[tuple[object, object] | None, ...] = ()


@dataclass(frozen=True)
class SpcAnalysis:
    """One KPI of a unit: its title ('kpi04 <name>'), the notes on what was left out or how it
    is charted, its panel (None: too few points for a chart), the points' kind: 'month',
    'quarter' or 'run' (a run chart of quarters), and how many complete months had patients.
    With `by_size`, a kind other than 'month' has the note saying why as its last note."""

    kpi: str
    title: str
    notes: list[str] = field(default_factory=list)
    panel: SpcPanel | None = None
    kind: str = "month"
    months: int = 0


def baseline_indexes(months: list[str], settings: SpcSettings) -> tuple[int, int] | None:
    """The baseline as indexes into the months charted (None: every month)."""
    if settings.baseline_from and settings.baseline_to:
        inside = [
            i for i, m in enumerate(months) if settings.baseline_from <= m <= settings.baseline_to
        ]
        return (inside[0], inside[-1] + 1) if inside else None
    if settings.baseline_months:
        return (0, settings.baseline_months)
    return None


def target_for(data: PeriodFigures, kpi: str) -> float | None:
    """The KPI's target: its green RAG threshold (a percentage, higher is better)."""
    rag = data.thresholds.rag_for(data.measure(kpi).id)
    if rag is None or rag.measure != "percent" or rag.direction != "higher":
        return None
    return rag.green


def chart_for(data: PeriodFigures, months: pd.DataFrame, quarterly: bool = False) -> Chart:
    settings = data.thresholds.spc
    labels = list(months["period"])
    baseline = baseline_indexes(labels, settings)
    if quarterly and baseline is not None and not settings.baseline_from:
        baseline = (0, max(2, (settings.baseline_months or 3) // 3))
    elif quarterly and baseline is not None:
        baseline = (baseline[0] // 3, max(baseline[0] // 3 + 2, -(-baseline[1] // 3)))
    rules = Rules(shift=settings.shift, trend=settings.trend)
    build = laney_p_chart if settings.chart == "pprime" else p_chart
    return build(
        months["numerator"].astype(float), months["denominator"].astype(float), baseline, rules
    )


def complete_months(catalogue: Catalogue, kpi: str, as_of: dt.date, months: list[str]) -> list[str]:
    """The months whose every patient had their window close by the extract date: the month has
    ended and, for a measure with a due window (90 days, 16 or 52 weeks), its last day plus the
    window is on or before the extract date. Later months are not yet complete: a chart draws
    no signal from them."""
    window = catalogue.measure(kpi).due
    days = catalogue.due_windows[window] if window else 0
    complete = []
    for month in months:
        year, number = (int(part) for part in month.split("-"))
        last = dt.date(year, number, calendar.monthrange(year, number)[1])
        if last + dt.timedelta(days=days) <= as_of:
            complete.append(month)
    return complete


def quarters(months: pd.DataFrame) -> pd.DataFrame:
    """Monthly rows summed by calendar quarter, each labelled by its last month with patients
    ('2024-03'), so that it sits at that month on the chart."""
    if months.empty:
        return months
    # Summed in plain Python, in the rows' order and skipping missing values, as pandas' sum
    # does: a grouped aggregation with functions of its own cost about 6 ms a call, most of a
    # small FLS's SPC analysis (nine KPIs, for every report and dashboard of it).
    sums: dict[str, list[float]] = {}
    last: dict[str, str] = {}
    numerators = months["numerator"].astype(float).tolist()
    denominators = months["denominator"].astype(float).tolist()
    for period, numerator, denominator in zip(
        months["period"], numerators, denominators, strict=True
    ):
        quarter = f"{period[:4]}-Q{(int(period[5:7]) - 1) // 3 + 1}"
        total = sums.setdefault(quarter, [0.0, 0.0])
        if numerator == numerator:  # not NaN
            total[0] += numerator
        if denominator == denominator:
            total[1] += denominator
        last[quarter] = max(last.get(quarter, period), period)
    order = sorted(sums)
    return pd.DataFrame(
        {
            "period": [last[q] for q in order],
            "numerator": [sums[q][0] for q in order],
            "denominator": [sums[q][1] for q in order],
        }
    )


def choose_points(months: pd.DataFrame, minimum: int) -> tuple[str, pd.DataFrame]:
    """'month' (monthly p-chart), 'quarter' (quarterly p-chart) or 'run' (quarterly run chart),
    and the points: limits need a median of at least `minimum` patients a point."""
    if float(months["denominator"].astype(float).median()) >= minimum:
        return "month", months
    by_quarter = quarters(months)
    if len(by_quarter) and float(by_quarter["denominator"].astype(float).median()) >= minimum:
        return "quarter", by_quarter
    return "run", by_quarter


def run_rules(analysis: RunAnalysis, chart: Chart) -> str:
    """A run chart's signals (Anhoej's rules) in words, with only the rules its quarters can
    test: too few quarters off the median test none."""
    if analysis.useful < 2 or analysis.run_limit < 1:
        off = f"{analysis.useful} {'quarter lies' if analysis.useful == 1 else 'quarters lie'}"
        return f"Only {off} off the median: too few to test for signals, so none is drawn."
    rules = [f"a run of more than {analysis.run_limit} quarters on one side of the median"]
    if analysis.crossing_limit >= 1:
        crossing = "crossing" if analysis.crossing_limit == 1 else "crossings"
        rules.append(f"fewer than {analysis.crossing_limit} {crossing} of it")
    seen = (
        "; see the chart."
        if any(chart.signals)
        else ("; neither is seen." if len(rules) > 1 else "; it is not seen.")
    )
    return "Its signals (Anhoej's rules) are " + ", or ".join(rules) + seen


def _month_words(months: list[str]) -> str:
    names = [uk_month(m) for m in months]
    return names[0] if len(names) == 1 else f"{names[0]} to {names[-1]}"


def unit_analysis(
    data: PeriodFigures, frame: pd.DataFrame, unit: str, *, by_size: bool = False
) -> list[SpcAnalysis]:
    """Each SPC KPI of a unit, in order, analysed once per figures (kept with them).

    With `by_size` (the reports and the dashboards), a KPI with too few patients a month for
    process limits is charted by quarter, or as a run chart of quarters (see the module's
    notes); without it every chart is monthly."""
    which = "service" if frame is data.monthly_service else "nation"
    if frame is not data.monthly_service and frame is not data.monthly_nation:
        return _analysis(data, frame, unit, by_size)
    return data.view(
        "spc", which, unit, by_size, make=lambda: _analysis(data, frame, unit, by_size)
    )


def _analysis(
    data: PeriodFigures, frame: pd.DataFrame, unit: str, by_size: bool
) -> list[SpcAnalysis]:
    found = []
    settings = data.thresholds.spc
    for kpi in SPC_KPIS:
        title = f"{kpi} {data.name(kpi)}"
        notes: list[str] = []
        months = data.months(frame, unit, kpi)
        months = months[months["denominator"].astype(float) > 0]
        complete = complete_months(data.catalogue, kpi, data.as_of, list(months["period"]))
        if len(complete) < len(months):
            left = [m for m in months["period"] if m not in set(complete)]
            notes.append(
                f"{title}: {_month_words(left)} not yet complete on the extract date (the "
                "patients' window has not closed), so not charted and no signal drawn from them."
            )
            months = months[months["period"].isin(complete)]
        count = len(months)
        if count < 2:
            notes.append(f"{title}: too few months with patients for a chart.")
            found.append(SpcAnalysis(kpi, title, notes, months=count))
            continue
        monthly = float(months["denominator"].astype(float).median())
        kind = "month"
        if by_size:
            kind, months = choose_points(months, settings.min_denominator)
        if len(months) < 2:
            notes.append(f"{title}: too few quarters with patients for a chart.")
            found.append(SpcAnalysis(kpi, title, notes, kind=kind, months=count))
            continue
        direction = data.measure(kpi).direction
        target = target_for(data, kpi)
        if kind == "run":
            values = months["numerator"].astype(float) / months["denominator"].astype(float)
            analysis, chart = run_chart(values.to_numpy())
            assurance = None
            notes.append(
                f"{title}: about {monthly:g} patients a month, too few for process limits (a "
                f"median of {settings.min_denominator} a point is needed, by month or by quarter): "
                f"a run chart of the quarters about their median. {run_rules(analysis, chart)}"
            )
        else:
            chart = chart_for(data, months, quarterly=kind == "quarter")
            assurance = assurance_icon(chart, None if target is None else target / 100, direction)
            if kind == "quarter":
                notes.append(
                    f"{title}: about {monthly:g} patients a month, too few for monthly process "
                    f"limits (a median of {settings.min_denominator} is needed): charted by "
                    "quarter, each quarter at its last month."
                )
        panel = SpcPanel(
            list(months["period"]),
            months["numerator"].astype(float).tolist(),
            months["denominator"].astype(float).tolist(),
            chart,
            direction,
            target,
            variation_icon(chart, direction),
            assurance,
        )
        found.append(SpcAnalysis(kpi, title, notes, panel, kind, count))
    return found
