"""What a reviewer reading the rendered pages must not find (issue 17 items 3-7): alarm counts
that leave out FLSs not named, recommendations that apply to no one, '1 FLSs', ISO months."""

from __future__ import annotations

import pandas as pd

from flsdb.dates import uk_month, uk_months
from flsdb.reports.recommendations import finding, grouped_recommendations
from flsdb.reports.summary import alarm_sentence, applies
from flsdb.reports.words import plural
from flsdb.stats.inequity import inequity
from tests.reports.test_content import Data, _rows


def _EMPTY(level: str) -> pd.DataFrame:
    return _rows(level, [("none", "none", 0, 0, None)])


def _hidden_alarm_data() -> Data:
    data = Data(service=_EMPTY("service"), nation=_EMPTY("nation"))
    # X (1%) and W (2%) are far below the others: both at alarm level; W's counts are withheld.
    names = ["X", "W", "Y", "Z", "V"]
    data.inequities = {
        "kpi04": inequity(
            names, [10, 20, 490, 500, 510], [1000] * 5, 0.5, shown=[True, False, True, True, True]
        ),
        "kpi07": inequity(["X", "Y", "Z"], [480, 500, 520], [1000, 1000, 1000]),
    }
    return data


def test_alarm_count_includes_fls_not_named() -> None:
    data = _hidden_alarm_data()
    result = data.inequities["kpi04"]
    assert result.outside("low_alarm") == ["X"]
    assert alarm_sentence(data) == (  # type: ignore[arg-type]
        "Across the 2 KPIs with funnel plots there are 2 results at alarm level (beyond the "
        "outer funnel limit); 1 of them belongs to an FLS not named, as its counts are withheld "
        "to protect small numbers of patients."
    )
    data.inequities = {"kpi07": data.inequities["kpi07"]}
    assert alarm_sentence(data) == (  # type: ignore[arg-type]
        "Across the 1 KPI with funnel plots there are 0 results at alarm level (beyond the "
        "outer funnel limit)."
    )


def test_a_recommendation_for_no_one_is_not_asked_for() -> None:
    service = _rows(
        "service",
        [("X", "kpi05", 900, 1000, 90.0), ("Y", "kpi05", 800, 1000, 80.0)],
    )
    nation = _rows("nation", [("all", "kpi05", 1700, 2000, 85.0)])
    data = Data(service=service, nation=nation, region=_EMPTY("region"))
    # kpi04 (in Data): X (1%) alone at alarm level, shown; kpi07: no FLS at alarm level.
    groups = grouped_recommendations(data)  # type: ignore[arg-type]
    items = {(i["rule"].kpi, i["rule"].level): i for g in groups for i in g["items"]}  # type: ignore[union-attr, attr-defined]
    assert applies(items[("kpi04", "service")])
    assert not applies(items[("kpi05", "service")])  # every FLS at 50% or more
    assert not applies(items[("kpi07", "service")])  # no FLS at alarm level
    # A withheld alarm-level FLS is someone: the recommendation applies.
    assert applies({"count": 0, "withheld": "1 more FLS is at alarm level but not named."})


def test_executive_summary_asks_only_for_what_applies() -> None:
    from flsdb.reports.summary import executive_summary

    class Coverage:
        participating, share, regions, regions_without = 3, 60.0, 2, []

    service = _rows("service", [("X", "kpi05", 900, 1000, 90.0), ("Y", "kpi05", 800, 1000, 80.0)])
    nation = _rows("nation", [("all", "kpi05", 1700, 2000, 85.0)])
    data = Data(service=service, nation=nation, region=_EMPTY("region"))
    data.period = type("P", (), {"label": "2024", "start": pd.Timestamp("2024-01-01")})()  # type: ignore[attr-defined]
    data.records = 3000  # type: ignore[attr-defined]
    data.services_with_records = 3  # type: ignore[attr-defined]
    data.mix = pd.DataFrame({"records": [0], "decision": [0], "not_recorded": [0]})  # type: ignore[attr-defined]
    groups = grouped_recommendations(data)  # type: ignore[arg-type]
    summary = executive_summary(data, Coverage(), [], [], groups)  # type: ignore[arg-type]
    asks = " ".join(summary["asks"])  # type: ignore[arg-type]
    assert "DXA" not in asks  # kpi05: every FLS meets it
    assert "recommendation against NICE" not in asks  # kpi07: no FLS at alarm level
    assert "assess more patients within 90 days" in asks  # kpi04: X at alarm level


def test_alert_count_agrees_in_number() -> None:
    data = _hidden_alarm_data()
    # X (46%) is below the inner limit around a target of 50%: one FLS at alert level.
    data.inequities["kpi04"] = inequity(
        ["X", "A", "B", "C", "D", "E"], [460, 490, 500, 505, 510, 520], [1000] * 6, 0.5
    )
    nation = _rows("nation", [("all", "kpi04", 2825, 6000, 47.1)])
    data.unsuppressed["nation"] = nation
    rule = next(r for r in data.thresholds.recommendations if r.kpi == "kpi04")
    words = finding(data, {"rule": rule, "count": 0, "of": 6, "noun": "FLSs"})  # type: ignore[arg-type]
    assert words.endswith("; 1 more is below the inner limit (alert level).")


def test_plurals_and_months_in_words() -> None:
    assert (plural(1, "FLS"), plural(2, "FLS"), plural(1, "is", "are")) == ("FLS", "FLSs", "is")
    assert uk_month("2024-12") == "Dec 2024"
    assert uk_months("2023-01 to 2023-12") == "Jan 2023 to Dec 2023"
    assert uk_months("data as of 2026-01-31") == "data as of 2026-01-31"


def test_kpi01_percent_has_one_meaning_per_column() -> None:
    from flsdb.reports.kpi_tables import KPI01_ALL, kpi_csv

    table = pd.concat(
        [
            _rows("service", [("X", "kpi01", 2, 17, 11.8), ("X", "kpi04", 30, 40, 75.0)]),
            _rows("region", [("QE1", "kpi01", 1, 1, 100.0)]),
        ],
        ignore_index=True,
    )
    rows = pd.read_csv(__import__("io").StringIO(kpi_csv(table, kpi01_apart=True)), dtype=str)
    rows = rows.set_index(["unit", "kpi"])
    fls, region, other = (
        rows.loc[("X", "kpi01")],
        rows.loc[("QE1", "kpi01")],
        rows.loc[("X", "kpi04")],
    )
    assert (fls["key_fields_missing"], fls["key_fields"], fls["key_fields_missing_percent"]) == (
        "2", "17", "11.8",
    )  # fmt: skip
    assert (region["fls_green"], region["fls_with_records"], region["fls_green_percent"]) == (
        "1", "1", "100.0",
    )  # fmt: skip
    # kpi01 leaves the shared columns empty; every other KPI leaves kpi01's columns empty.
    assert fls[["numerator", "denominator", "percent"]].isna().all()
    assert region[["numerator", "denominator", "percent"]].isna().all()
    assert fls[["fls_green", "fls_green_percent"]].isna().all()
    assert other["percent"] == "75.0" and other[list(KPI01_ALL)].isna().all()


def _run_panel(values: list[float], target: float | None = 80.0):
    from flsdb.figures.spc import SpcPanel
    from flsdb.stats.spc import run_chart, variation_icon

    analysis, chart = run_chart(values)
    months = [f"{2023 + i // 4}-{(i % 4) * 3 + 3:02d}" for i in range(len(values))]
    panel = SpcPanel(
        months, [v * 10 for v in values], [10.0] * len(values), chart, "higher", target,
        variation_icon(chart, "higher"), None,
    )  # fmt: skip
    return analysis, panel


def test_a_run_chart_is_described_as_what_is_drawn() -> None:
    from flsdb.config import load_thresholds
    from flsdb.reports.charts.spc import BASELINE_FILL, SpcGrid, legend
    from flsdb.reports.spc_panels import spc_intro, summary_row

    _, panel = _run_panel([0.5, 0.4, 0.6, 0.5, 0.7, 0.3, 0.5, 0.6])
    row = summary_row("kpi04", "kpi04 FLS assessment within 90 days", panel, "run")
    assert row.latest == "60.0% (Oct–Dec 2024)"  # a quarter, named as one
    assert row.mean == "median 50.0%"
    # kpi04 has a target: a run chart cannot assess it, and it says so.
    assert row.assurance == "not assessed: a run chart has no process limits"
    assert row.variation == "run chart: no signal"
    settings = load_thresholds().spc
    months = [f"2023-{m:02d}" for m in range(1, 13)]
    intro = spc_intro(settings, months, frozenset({"run"}))
    for words in ("mean and limits", "baseline months", "shaded", "2023-01"):
        assert words not in intro
    assert "median" in intro and "Anhoej" in intro
    assert "Jan 2023 to Dec 2023" in spc_intro(settings, months, frozenset({"month"}))
    keys = str(legend(frozenset({"run"})))
    assert "median" in keys and "process limits" not in keys and "baseline" not in keys
    assert "process limits" in str(legend(frozenset({"month", "run"})))
    grid = SpcGrid(["kpi04"], list(panel.months))
    assert BASELINE_FILL not in grid.panel_svg(panel, True, "run").decode()
    assert BASELINE_FILL in grid.panel_svg(panel, True, "month").decode()
    drawn = grid.render({"kpi04": panel}, "X", {"kpi04": "run"})
    assert drawn.kinds == frozenset({"run"}) and "process limits" not in drawn.alt


def test_run_chart_rules_never_count_zero() -> None:
    from flsdb.figures.spc import run_rules

    # Every quarter at 0%: none off the median, nothing to test.
    analysis, panel = _run_panel([0.0] * 8)
    assert run_rules(analysis, panel.chart) == (
        "Only 0 quarters lie off the median: too few to test for signals, so none is drawn."
    )
    # Four quarters off the median: a run rule, but no crossing can be too few.
    analysis, panel = _run_panel([0.1, 0.5, 0.5, 0.9, 0.5, 0.2, 0.8])
    words = run_rules(analysis, panel.chart)
    assert "more than 0" not in words and "fewer than 0" not in words
    assert words.startswith("Its signals (Anhoej's rules) are a run of more than 5 quarters")


def test_signals_name_quarters_and_say_what_a_value_is() -> None:
    from flsdb.reports.narrative import explain_chart
    from flsdb.reports.words import point_label
    from flsdb.stats import p_chart

    chart = p_chart([10, 11, 9, 10, 12, 10, 19], [20] * 7)
    labels = [point_label(f"2023-{m:02d}", "quarter") for m in (3, 6, 9, 12, 3, 6, 9)]
    said = explain_chart(labels, chart, "higher", "kpi11")
    assert said[0].startswith(
        "kpi11, Jul–Sep 2023: 95% of patients, beyond the upper process limit ("
    )
    assert point_label("2024-12") == "Dec 2024"


def test_counts_worked_out_from_a_share_print_as_whole_numbers() -> None:
    from flsdb.reports.charts.base import count

    assert count(119 / 1352 * 1352) == "119"  # 118.99999999999999
    assert count(0.59 * 100) == "59"  # 59.00000000000001
    assert (count(1352.0), count(226386.5), count("<5"), count(None)) == (
        "1,352", "226,386.5", "<5", "",
    )  # fmt: skip


def test_labels_not_developer_names(tmp_path) -> None:
    import openpyxl

    from flsdb.config import load_thresholds
    from flsdb.kpi import load_catalogue
    from flsdb.kpi.caseload import CrudeRateEstimator
    from flsdb.reports.kpi_tables import styles_for, write_definitions
    from flsdb.reports.national import lost_sites
    from flsdb.reports.words import field_label
    from flsdb.sheets import xlsx_workbook

    assert field_label("care_home_resident") == "Care home resident"
    assert field_label("date_fls_assessment") == "Date of FLS assessment"
    words = CrudeRateEstimator().words
    assert "_" not in words and "population aged 50 and over" in words
    data = type("D", (), {"lost_sites": {"X": 0}, "period": None})()
    assert lost_sites(data) == ""  # type: ignore[arg-type]  # no '0 record(s)'
    path = tmp_path / "d.xlsx"
    with xlsx_workbook(path) as book:
        write_definitions(book, load_catalogue(), load_thresholds(), ["heading"], styles_for(book))
    sheet = openpyxl.load_workbook(path)["definitions"]
    header = next(r for r in range(1, 10) if sheet.cell(row=r, column=1).value == "KPI")
    text = " ".join(
        str(sheet.cell(row=r, column=c).value or "")
        for r in range(header + 1, sheet.max_row + 1)
        for c in range(2, 6)
    )
    assert "Patients recommended a bone-strengthening" in text
    for token in ("<=", "as_of", " = yes", "fracture_site", "days <="):
        assert token not in text, token


def test_every_kpi_by_region_has_every_kpi_once_with_a_short_name() -> None:
    from flsdb.kpi import load_catalogue
    from flsdb.reports.regions import PARTS, short_name

    shown = [kpi for part in PARTS for kpi in part]
    assert sorted(shown) == sorted(load_catalogue().kpi_ids)  # hr01 and hr04 too, once each
    for kpi in shown:
        assert short_name(kpi) != kpi and "_" not in short_name(kpi)


def test_a_withheld_row_is_labelled_once_and_a_funnel_states_its_method_once() -> None:
    import numpy as np

    from flsdb.reports.charts.bars import WITHHELD_TEXT, paired_bars
    from flsdb.reports.charts.funnels import funnel_chart

    table = pd.DataFrame(
        {"spine": [10.0, np.nan, 30.0], "non-spine": [20.0, np.nan, np.nan]},
        index=["A ICB", "B ICB", "C ICB"],
    )
    drawn = paired_bars(table, "Identification", 80.0, table.astype(str)).image
    assert drawn.count(WITHHELD_TEXT.encode()) == 1  # B: both withheld, said once
    assert drawn.count(b">withheld<") == 1  # C: its non-spine bar
    result = inequity(["X", "Y", "Z"], [10, 500, 900], [1000, 1000, 1000])
    svg = funnel_chart(result, "kpi04 FLS assessment", {}).image
    # The method is in the caption under the chart, not printed beside it as well.
    assert "limits around" in result.funnel.describe()
    assert b"limits around" not in svg and b"overdispersion" not in svg
