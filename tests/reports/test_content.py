"""The national report's chapters for an audit team (issue 17 item 5), on hand-built figures:
recommendations with their findings and thresholds, trends with a test of change, case-mix and
reasons with small counts hidden, participation and coverage, every KPI by region."""

from __future__ import annotations

import pandas as pd

from flsdb.config import load_thresholds
from flsdb.kpi import load_catalogue
from flsdb.reports.casemix import reasons_table, site_table
from flsdb.reports.coverage import all_regions, coverage
from flsdb.reports.recommendations import grouped_recommendations
from flsdb.reports.regions import region_tables
from flsdb.reports.trends import trend_rows
from flsdb.stats.inequity import inequity

SERVICES = pd.DataFrame(
    {
        "service_code": ["X", "Y", "Z"],
        "service_name": ["Ex FLS", "Why FLS", "Zed FLS"],
        "region_code": ["QE1", "QE1", "7A1"],
        "region_name": ["Lancashire and South Cumbria ICB"] * 2 + ["Betsi Cadwaladr UHB"],
        "nation": ["england", "england", "wales"],
    }
)


def _rows(level: str, rows: list[tuple[str, str, object, object, object]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"level": level, "unit": u, "kpi": k, "numerator": n, "denominator": d, "percent": p}
            for u, k, n, d, p in rows
        ]
    ).assign(rag=None, ci_low=None, ci_high=None, not_due=0, period="2024")


class Data:
    """The parts of PeriodFigures the chapters read."""

    def __init__(self, **tables: pd.DataFrame) -> None:
        self.thresholds = load_thresholds()
        self.catalogue = load_catalogue()
        self.services = SERVICES
        self.suppression = True
        self.unsuppressed = tables
        self.published = tables
        self.inequities = {
            "kpi04": inequity(["X", "Y", "Z"], [10, 500, 900], [1000, 1000, 1000]),
            "kpi07": inequity(["X", "Y", "Z"], [480, 500, 520], [1000, 1000, 1000]),
        }
        self.sites: pd.DataFrame | None = None
        self.reasons: pd.DataFrame | None = None
        self.catchments: pd.DataFrame | None = None
        self.linked_withheld: frozenset[str] = frozenset()
        self.years = tables.get("years", pd.DataFrame())

    def name(self, kpi: str) -> str:
        return self.catalogue.name(kpi)

    def measure(self, kpi: str):
        return self.catalogue.measure(kpi)

    def row(self, level: str, unit: str, kpi: str, published: bool = True) -> dict[str, object]:
        table = self.unsuppressed.get(level)
        if table is None:
            return {}
        found = table[(table["unit"] == unit) & (table["kpi"] == kpi)]
        return {str(k): v for k, v in found.iloc[0].items()} if len(found) else {}

    def unit_name(self, level: str, unit: str) -> str:
        column = "service" if level == "service" else "region"
        rows = self.services[self.services[f"{column}_code"] == unit]
        return f"{rows[f'{column}_name'].iloc[0]} ({unit})"


def test_recommendations_by_audience_with_finding_and_threshold() -> None:
    service = _rows(
        "service",
        [
            # kpi01 counts key fields: 5 or more more than 20% missing picks X only.
            ("X", "kpi01", 5, 17, 29.4),
            ("Y", "kpi01", 4, 17, 23.5),
            ("Z", "kpi01", None, None, None),
            # kpi05 below 50%: 49.9 is below, 50.0 is not.
            ("X", "kpi05", 499, 1000, 49.9),
            ("Y", "kpi05", 500, 1000, 50.0),
            ("Z", "kpi05", None, None, None),
        ],
    )
    nation = _rows("nation", [("all", "kpi01", 2, 3, 66.7), ("all", "kpi05", 999, 2000, 49.95)])
    region = _rows("region", [("QE1", "kpi02_spine", 10, 100, 10.0)])
    groups = grouped_recommendations(Data(service=service, nation=nation, region=region))  # type: ignore[arg-type]
    assert [g["audience"] for g in groups] == ["ICBs and health boards", "FLSs", "executive teams"]
    executive = {i["rule"].kpi: i for i in groups[2]["items"]}  # type: ignore[union-attr, index, attr-defined]
    assert executive["kpi01"]["count"] == 1
    assert executive["kpi01"]["finding"] == (
        "1 of 3 FLSs has 5 or more of the 17 key fields more than 20% missing (nationally, "
        "66.7% of FLSs have green data completeness)."
    )
    assert executive["kpi01"]["threshold"] == (
        "an FLS with 5 or more of the 17 key fields more than 20% missing on kpi01"
    )
    assert executive["kpi05"]["finding"] == (
        "1 of 3 FLSs is below 50% on kpi05 DXA within 90 days (England and Wales 50.0%)."
    )
    assert executive["kpi05"]["threshold"] == "an FLS below 50% on kpi05"
    icb = {(i["rule"].kpi, i["rule"].level): i for i in groups[0]["items"]}  # type: ignore[union-attr, index, attr-defined]
    # kpi04: X (1%) is beyond the outer limit: named, and the finding counts it.
    assert icb[("kpi04", "service")]["units"] == ["Ex FLS (X)"]
    assert icb[("kpi04", "service")]["finding"].startswith(
        "1 of 3 FLSs is below the outer funnel limit of kpi04 FLS assessment within 90 days"
    )
    assert icb[("kpi02_spine", "region")]["count"] == 1


def test_trends_test_the_change_from_last_year() -> None:
    years = pd.concat(
        [
            _rows("nation", [("all", "kpi04", 450, 1000, 45.0), ("all", "kpi05", 50, 100, 50.0)]),
            _rows("nation", [("all", "kpi04", 600, 1000, 60.0), ("all", "kpi05", 52, 100, 52.0)]),
            _rows("nation", [("all", "kpi01", 3, 4, 75.0)]),
            _rows("nation", [("all", "kpi09", "<5", 9, None)]),
            _rows("nation", [("all", "kpi09", 6, 9, 66.7)]),
        ],
        ignore_index=True,
    )
    years["period"] = ["2023", "2023", "2024", "2024", "2024", "2023", "2024"]
    listed, rows = trend_rows(Data(years=years))  # type: ignore[arg-type]
    assert listed == ["2023", "2024"]
    found = {r.kpi: r for r in rows}
    # 450/1000 -> 600/1000: pooled 0.525, se = sqrt(0.525 * 0.475 * 0.002) = 0.022332,
    # z = 0.15 / 0.022332 = 6.717: p < 0.001, higher, and higher is better for kpi04.
    assert round(found["kpi04"].change.z, 3) == 6.717  # type: ignore[union-attr]
    assert (found["kpi04"].difference, found["kpi04"].verdict) == (
        "+15.0",
        "higher, better (p < 0.001)",
    )
    # 50/100 -> 52/100: pooled 0.51, se = sqrt(0.51 * 0.49 * 0.02) = 0.070697, z = 0.2829,
    # p = 0.777.
    assert found["kpi05"].verdict == "no significant change (p = 0.78)"
    assert found["kpi01"].verdict == "not tested (counts key fields)"
    assert found["kpi09"].verdict == "no test (no counts for both years)"  # last year withheld


def _site_counts(**counts: int) -> pd.DataFrame:
    codes = ["hip", "spine", "humerus", "pelvis", "wrist", "other", "not_recorded"]
    return pd.DataFrame([{"service_code": "X", **dict.fromkeys(codes, 0), **counts}])


def test_site_table_hides_a_small_count_and_one_more_to_protect_it() -> None:
    nation = _rows("nation", [("all", "kpi03", "<5", 83, None), ("all", "hr01", 53, 83, 63.9)])
    data = Data(nation=nation)
    data.sites = _site_counts(hip=30, spine=3, wrist=20, other=30)
    withheld = site_table(data)  # type: ignore[arg-type]
    # kpi03's numerator (the spine count) is withheld in the KPI tables: the table goes whole.
    assert withheld is not None and {r.count for r in withheld.rows} == {"c"}
    nation = _rows("nation", [("all", "kpi03", 3, 83, 3.6), ("all", "hr01", 53, 83, 63.9)])
    data = Data(nation=nation)
    data.sites = _site_counts(hip=30, spine=3, wrist=20, other=30)
    table = site_table(data)  # type: ignore[arg-type]
    assert table is not None
    counts = {r.label: r.count for r in table.rows}
    # spine 3 is <5; the total (83) is shown, so a second count is withheld: the smallest
    # shown above 0, wrist (20).
    assert counts == {
        "hip": 30, "spine": "<5", "humerus": 0, "pelvis": 0, "wrist": "c", "other site": 30
    }  # fmt: skip
    assert table.total == 83
    shares = {r.label: r.percent for r in table.rows}
    assert shares["spine"] is None and round(shares["hip"], 1) == 36.1  # 30 / 83


def test_reasons_separate_decisions_from_not_recorded() -> None:
    nation = _rows("nation", [("all", "kpi07", 60, 100, 60.0)])
    data = Data(nation=nation)
    data.reasons = pd.DataFrame(
        [
            {
                "service_code": "X",
                "inappropriate": 12,
                "informed_decline": 8,
                "referred_clinical_opinion": 6,
                "referred_to_gp": 6,
                "not_known": 5,
                "not_recorded": 3,
            }
        ]
    )
    table = reasons_table(data)  # type: ignore[arg-type]
    assert table is not None and table.total == 40
    assert [r.label for r in table.rows] == [
        "not appropriate",
        "patient declined (informed decision)",
        "referred for a clinical opinion",
        "referred to the GP",
        "not known",
        "not recorded (blank)",
    ]
    counts = [r.count for r in table.rows]
    assert counts[:4] == [12, 8, 6, 6] and counts[5] == "<5"
    # The 3 blanks are hidden; the next smallest shown count (not known, 5) goes with them.
    assert counts[4] == "c"
    assert "(80.0% of these patients)" in table.note  # 32 of 40 were decisions


def test_coverage_names_regions_without_an_fls_and_the_population_served() -> None:
    service = _rows(
        "service",
        [("X", "kpi03", 1, 10, 10.0), ("Y", "kpi03", 0, 0, None), ("Z", "kpi03", 2, 20, 10.0)],
    )
    data = Data(service=service)
    data.catchments = pd.DataFrame(
        {
            "service_code": ["X", "Y", "Z"],
            "population_50plus": [100_000, 50_000, None],
            "expected_spine": [None, None, 150],
            "expected_non_spine": [None, None, 600],
        }
    )
    result = coverage(data)  # type: ignore[arg-type]
    regions = all_regions()
    assert (result.services, result.participating) == (3, 2)  # Y sent no records
    assert (result.regions, result.regions_with_fls) == (len(regions), 2)
    assert len(result.regions_without) == len(regions) - 2
    assert "Lancashire and South Cumbria ICB (QE1)" not in result.regions_without
    # X's 100,000, and Z's (150 + 600) / 1.5% = 50,000 estimated from its expected caseload.
    assert (result.covered, result.estimated) == (150_000, 1)
    assert result.population == regions["population_50plus"].sum()


def test_every_kpi_by_region_shows_published_values_and_markers() -> None:
    region = _rows(
        "region",
        [
            ("QE1", "kpi04", 30, 40, 75.0),
            ("7A1", "kpi04", "<5", 6, None),
            ("QE1", "kpi03", 4, 40, 10.0),
        ],
    ).assign(rag=["amber", None, "amber"])
    service = _rows("service", [("X", "kpi03", 1, 10, 10.0), ("Y", "kpi03", 0, 0, None)])
    nation = _rows("nation", [("all", "kpi04", 33, 46, 71.7)])
    tables = region_tables(Data(region=region, service=service, nation=nation))  # type: ignore[arg-type]
    first = tables[0]
    column = list(first["kpis"]).index("kpi04")  # type: ignore[call-overload]
    rows = {r["code"]: (r, cells) for r, cells in first["rows"]}  # type: ignore[attr-defined, index]
    assert [r["nation"] for r, _ in first["rows"]] == ["England", "Wales"]  # type: ignore[attr-defined]
    england, cells = rows["QE1"]
    assert england["fls"] == "1 of 2" and england["records"] == "40"
    assert (cells[column].text, cells[column].rag) == ("75.0", "amber")
    assert rows["7A1"][1][column].text == "<5"
    assert first["nation"][column].text == "71.7"  # type: ignore[index]


def test_appendix_a_defines_every_measure_in_words() -> None:
    from flsdb.reports.appendix import counting_rules, reader_definitions, target_words

    catalogue, thresholds = load_catalogue(), load_thresholds()
    definitions = reader_definitions(catalogue, thresholds)
    assert [d.kpi for d in definitions] == list(catalogue.kpi_ids)
    for item in definitions:
        words = f"{item.counted} {item.out_of} {item.target}"
        assert item.counted and item.out_of, item.kpi
        # Words, not code: no column names, operators or code quotes.
        for token in ("`", ">=", "<=", "_", " = ", "holds a drug", "within_days"):
            assert token not in words, (item.kpi, token)
    assert target_words(thresholds.rag_for("kpi04")) == (
        "green at 80% or more, amber 50% to under 80%, red under 50%"
    )
    assert target_words(thresholds.rag_for("kpi07")) == "green at 50% or more, red under 50%"
    assert target_words(None) == "no target (reported for information)"
    assert counting_rules(thresholds)[-1].startswith(
        "An FLS's expected caseload is the figure it gave in the services file or, where it gave "
        "none, 1.5% of its population aged 50 and over a year, 20% of them spine fractures."
    )


def test_trends_show_participation_each_year() -> None:
    from flsdb.reports.trends import participation_by_year

    years = pd.concat(
        [
            _rows("nation", [("all", "kpi01", 60, 70, 85.7), ("all", "kpi03", 900, 8100.0, 11.1)]),
            _rows("nation", [("all", "kpi01", 70, 77, 90.9), ("all", "kpi03", 990, 9000.0, 11.0)]),
        ],
        ignore_index=True,
    )
    years["period"] = ["2023", "2023", "2024", "2024"]
    assert participation_by_year(Data(years=years), ["2023", "2024"]) == [  # type: ignore[arg-type]
        ["FLSs taking part", "70", "77"],
        ["records", "8,100", "9,000"],
    ]
