"""The national SPC charts' counts in the intruder's audit (issue 17 item 1): a month of 1 to 4
is withheld, and no withheld month can be worked out from the year's national count less the
months shown beside it."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from flsdb.dates import point_label, uk_month
from flsdb.disclosure import protect_tables
from flsdb.disclosure.linked import Linked, audit_linked, secure_linked
from flsdb.figures import PeriodFigures
from flsdb.figures.spc import unit_analysis
from flsdb.reports.published_counts import linked_counts
from flsdb.reports.spc_counts import marks, points, published_panel
from flsdb.reports.spc_panels import spc_figure
from tests.disclosure.test_disclosure import BASE, POLICY, SERVICES, tables_for
from tests.reports.cases import CASES_GROUP, checked_case_figures

pytestmark = CASES_GROUP  # the checked figures are made once per process


def _months(numerators: list[float]) -> Linked:
    """kpi04's national numerator of 2024 (150) as twelve monthly points, each printed unless
    it is 1 to 4 (then `<5`), adding up to the year's count in the KPI tables."""
    linked = Linked("2024")
    names = []
    for month, value in enumerate(numerators, start=1):
        name = f"spc:kpi04:2024-{month:02d}:numerator"
        linked.add(name, value, POLICY.label if POLICY.small(value) else value)
        names.append(name)
    linked.sums.append((tuple(names), (("nation", "all", "kpi04", "numerator"),)))
    return linked


def test_a_month_of_1_to_4_beside_the_years_count_is_withheld_with_another_month() -> None:
    raw = tables_for("kpi04", BASE)
    shown = protect_tables(raw, SERVICES, POLICY)
    assert shown["nation"].set_index("unit").loc["all", "numerator"] == 200  # printed
    months = [3.0, 12.0, *[17.0] * 9, 32.0]
    assert sum(months) == 200
    linked = _months(months)
    # March's 3 shown as <5 beside the year's 200 and the other eleven months: 200 - 197.
    found = audit_linked(shown, raw, SERVICES, POLICY, linked)
    assert len(found) == 1 and "spc:kpi04:2024-01:numerator" in found[0]
    assert "can be worked out as 3 by an outsider" in found[0]
    # The search withholds one more month (the smallest shown), and then it passes: the two
    # withheld months add up to 15, so January's may be any of 1 to 4.
    withheld = secure_linked(shown, raw, SERVICES, POLICY, linked)
    assert withheld == frozenset({"spc:kpi04:2024-02:numerator"})
    assert audit_linked(shown, raw, SERVICES, POLICY, linked, withheld) == []


@pytest.fixture(scope="module")
def report_data() -> PeriodFigures:
    """The test set's figures as `check_publishable` makes them (shared, read only)."""
    return checked_case_figures()


def test_the_national_spc_points_are_published_as_the_audit_passes_them(
    report_data: PeriodFigures,
) -> None:
    data = report_data
    policy = data.thresholds.suppression
    found = points(data)
    small = [p for p in found if policy.small(p.numerator) or policy.small(p.denominator)]
    assert small  # the test set's months are small: there is something to withhold
    withheld = marks(data)
    for point in small:
        numerator, denominator = withheld[(point.kpi, point.month)]
        if policy.small(point.denominator):
            assert denominator == "<5"
        assert isinstance(numerator, str)
    # In the audit's model, with every relation (the year's months add up to its count), the
    # points pass: no withheld month is narrowed below 1 to 4, for an outsider or any FLS.
    linked = linked_counts(data)
    assert linked is not None
    assert sum(name.startswith("spc:") for name in linked.values) == 2 * len(found)
    assert any(str(name).startswith("spc:") for left, _ in linked.sums for name in left)
    audit = audit_linked(
        data.published,
        data.unsuppressed,
        data.services,
        policy,
        linked,
        data.linked_withheld,
        data.group_counts,
    )
    assert audit == []
    # No year's count less the months shown leaves a single withheld month.
    for left, right in linked.sums:
        if not all(isinstance(n, str) and n.startswith("spc:") for n in left):
            continue
        hidden = [n for n in left if isinstance(linked.shown[n], str) or n in data.linked_withheld]
        total = right[0]
        if isinstance(total, tuple):
            total_shown = not isinstance(data.row(*total[:3]).get(total[3]), str)
        else:
            total_shown = not isinstance(linked.shown[total], str)
        assert not (total_shown and len(hidden) == 1), (left, hidden)


def test_a_withheld_point_is_printed_as_its_markers_and_not_drawn(
    report_data: PeriodFigures,
) -> None:
    data = report_data
    withheld = marks(data)
    assert withheld
    graphic, _, summary = spc_figure(data, data.monthly_nation, "all", "England and Wales")
    rows = pd.DataFrame(list(graphic.table.rows), columns=list(graphic.table.columns))
    for (kpi, month), (numerator, denominator) in withheld.items():
        # The month in words: 'Jan 2024', or a quarter's 'Jan–Mar 2024'.
        said = {uk_month(month), point_label(month, "quarter")}
        row = rows[(rows["KPI"].str.startswith(f"{kpi} ")) & (rows["month"].isin(said))]
        assert len(row) == 1
        for column, value in (("n", numerator), ("N", denominator)):
            printed = value if isinstance(value, str) else f"{float(str(value)):.0f}"
            assert row[column].iloc[0] == printed
        assert row["%"].iloc[0] == "withheld" and row["lower limit"].iloc[0] == ""
    assert "nan" not in " ".join(" ".join(r) for r in graphic.table.rows)
    assert all("nan" not in s.latest for s in summary)
    # The drawing's values are those of the published panel: none for a withheld point.
    for analysis in unit_analysis(data, data.monthly_nation, "all", by_size=True):
        if analysis.panel is None:
            continue
        drawn = published_panel(analysis.panel, analysis.kpi, withheld)
        for month, value in zip(drawn.months, drawn.chart.values, strict=True):
            assert math.isfinite(float(value)) == ((analysis.kpi, str(month)) not in withheld)
