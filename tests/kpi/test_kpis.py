"""Every KPI on hand-built records, with hand-computed values, on SQLite, PostgreSQL, DuckDB and
Spark.

The tests only read the records: each engine's source is built once per test process and shared
(the Ibis test suite's pattern); a test that changes stored rows builds its own (`make_source`)."""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path

import ibis
import pytest

from flsdb.ingest import validate_file
from flsdb.kpi import KpiRequest, compute_kpis, compute_levels, load_catalogue, parse_period
from flsdb.kpi.compile import Compiler
from flsdb.kpi.query import count_query
from flsdb.kpi.sources import (
    RecordSource,
    source_from_database,
    source_from_files,
    write_extract,
)
from flsdb.storage import known_service_codes, open_engine, store_records, store_services
from tests.factory import nhs_number, record, write_records, write_services
from tests.kpi.cases import AS_OF, EXPECTED_ALL, ROWS

ENGINES = ["sqlite", "postgresql", "duckdb", "spark"]


def make_source(engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> RecordSource:
    services_path = write_services(tmp_path / "services.csv")
    records_path = write_records(tmp_path / "records.csv", ROWS)
    if engine == "duckdb":
        return source_from_files(records_path, services_path, upload_date=AS_OF)
    if engine == "spark":
        # Spark reads an flsdb Parquet extract, as `flsdb kpis --engine spark` does.
        request.getfixturevalue("spark")
        extract = write_extract(
            validate_file(records_path, "records", upload_date=AS_OF).frame,
            tmp_path / "records.parquet",
        )
        return source_from_files(extract, services_path, upload_date=AS_OF, engine="spark")
    if engine == "sqlite":
        url = f"sqlite:///{tmp_path / 'kpi.db'}"
    else:
        from tests.conftest import _fresh_postgres

        url = _fresh_postgres(request.getfixturevalue("postgres_admin_url"), migrated=True)
    db = open_engine(url)
    store_services(db, validate_file(services_path, "services"))
    store_records(
        db,
        validate_file(
            records_path, "records", known_services=known_service_codes(db), upload_date=AS_OF
        ),
    )
    return source_from_database(engine=db)


_SHARED: dict[str, RecordSource] = {}


def shared_source(engine: str, request: pytest.FixtureRequest) -> RecordSource:
    """The engine's source of ROWS, built once per test process; never change its records."""
    if engine not in _SHARED:
        folder = request.getfixturevalue("tmp_path_factory").mktemp(f"kpi-{engine}")
        _SHARED[engine] = make_source(engine, folder, request)
    elif engine == "spark":
        request.getfixturevalue("spark")  # the session the source was read with
    return _SHARED[engine]


@pytest.fixture(params=ENGINES)
def source(request: pytest.FixtureRequest) -> RecordSource:
    return shared_source(request.param, request)


def run(
    source: RecordSource,
    by: str,
    period: str = "2024",
    interval: str | None = None,
    kpis: tuple[str, ...] | None = None,
):
    request = KpiRequest(parse_period(period), by=by, as_of=AS_OF, interval=interval, kpis=kpis)  # type: ignore[arg-type]
    return compute_kpis(source, request).table


def value(table, unit: str, kpi: str, period: str = "2024") -> dict[str, object]:
    rows = table[(table["unit"] == unit) & (table["kpi"] == kpi) & (table["period"] == period)]
    assert len(rows) == 1, (unit, kpi, period)
    return rows.iloc[0].to_dict()


def test_every_kpi_nationally(source: RecordSource) -> None:
    table = run(source, "nation")
    assert set(table["unit"]) == {"england", "wales", "all"}
    for kpi, (num, den, percent, rag, not_due) in EXPECTED_ALL.items():
        row = value(table, "all", kpi)
        got = (row["numerator"], row["denominator"], row["percent"], row["rag"], row["not_due"])
        assert got == (num, den, percent, rag, not_due), kpi


def wilson(k: float, n: float, z: float = 1.959963984540054) -> tuple[float, float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return round((centre - half) * 100, 1), round((centre + half) * 100, 1)


def test_wilson_interval(source: RecordSource) -> None:
    row = value(run(source, "nation", kpis=("kpi03",)), "all", "kpi03")
    assert (row["ci_low"], row["ci_high"]) == wilson(2, 9) == (6.3, 54.7)


def test_by_service_and_region(source: RecordSource) -> None:
    services = run(source, "service", kpis=("kpi02", "kpi07", "kpi03"))
    assert list(dict.fromkeys(services["unit"])) == ["FLS01", "FLS02", "WAL01"]
    # FLS01: 7 records over 200 expected; FLS02: 1 over 150 estimated from population 10,000.
    assert value(services, "FLS01", "kpi02")["percent"] == 3.5
    assert value(services, "FLS02", "kpi02")["denominator"] == 150
    assert value(services, "FLS02", "kpi02")["percent"] == 0.7
    assert value(services, "WAL01", "kpi02")["percent"] == 2.0
    assert value(services, "FLS01", "kpi07")["numerator"] == 5
    assert value(services, "FLS01", "kpi07")["denominator"] == 7
    regions = run(source, "region", kpis=("kpi03",))
    assert (
        value(regions, "QE1", "kpi03")["numerator"],
        value(regions, "QE1", "kpi03")["denominator"],
    ) == (2, 8)
    assert value(regions, "7A1", "kpi03")["percent"] == 0.0
    nations = run(source, "nation", kpis=("kpi02",))
    assert value(nations, "england", "kpi02")["percent"] == 2.3  # 8 / 350


def test_quarters_and_months(source: RecordSource) -> None:
    quarters = run(source, "nation", interval="quarter", kpis=("kpi07", "kpi02"))
    assert sorted(set(quarters["period"])) == ["2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4"]
    got = [
        (
            value(quarters, "all", "kpi07", q)["numerator"],
            value(quarters, "all", "kpi07", q)["denominator"],
        )
        for q in ("2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4")
    ]
    assert got == [(2, 3), (1, 2), (1, 1), (3, 3)]
    q1 = value(quarters, "all", "kpi02", "2024-Q1")
    assert q1["denominator"] == 99  # 400 x 91 / 366 = 99.45, a whole number of patients
    assert q1["percent"] == 3.0  # 3 / 99
    months = run(source, "nation", interval="month", kpis=("kpi07",))
    assert len(set(months["period"])) == 12
    assert value(months, "all", "kpi07", "2024-11")["numerator"] == 2
    assert value(months, "all", "kpi07", "2024-02")["denominator"] == 0
    assert value(months, "all", "kpi07", "2024-02")["percent"] is None
    single = run(source, "service", period="2024-Q4", kpis=("kpi07",))
    assert value(single, "FLS01", "kpi07", "2024-Q4")["denominator"] == 3


def test_breakdowns(source: RecordSource) -> None:
    ages = run(source, "age_band", kpis=("kpi07",))
    got = {
        u: (value(ages, u, "kpi07")["numerator"], value(ages, u, "kpi07")["denominator"])
        for u in ("50-64", "65-74", "75-84", "85+")
    }
    assert got == {"50-64": (0, 1), "65-74": (6, 6), "75-84": (1, 1), "85+": (0, 1)}
    sexes = run(source, "sex", kpis=("kpi03",))
    assert value(sexes, "female", "kpi03")["denominator"] == 8
    assert value(sexes, "male", "kpi03")["denominator"] == 1
    homes = run(source, "care_home", kpis=("kpi03",))
    assert value(homes, "yes", "kpi03")["denominator"] == 1
    assert value(homes, "no", "kpi03")["denominator"] == 1
    assert value(homes, "not_recorded", "kpi03")["denominator"] == 7
    assert "kpi02" not in set(run(source, "sex")["kpi"])


def test_results_equal_across_engines(request: pytest.FixtureRequest) -> None:
    """Every KPI by service and quarter: the same table from all four engines."""
    tables = []
    for name in ENGINES:
        tables.append(run(shared_source(name, request), "service", interval="quarter"))
    assert len(tables[0]) == 3 * 4 * 19
    for other in tables[1:]:
        assert other.to_dict("records") == tables[0].to_dict("records")


def test_kpi02_has_an_exact_poisson_interval(source: RecordSource) -> None:
    row = value(run(source, "nation", kpis=("kpi02",)), "all", "kpi02")
    # 9 observed over 400 expected: exact Poisson limits of 9 are 4.115 and 17.084.
    assert (row["ci_low"], row["ci_high"]) == (1.0, 4.3)


def test_kpi01_per_fls_counts_fields_and_per_region_shares_flss(tmp_path: Path) -> None:
    complete = {
        "care_home_resident": "no",
        "date_fls_assessment": "2024-03-20",
        "admitted_to_hospital": "yes",
        "fracture_type": "clinical",
        "previous_fracture": "no",
        "bone_therapy_at_presentation": "none",
        "dxa": "ordered",
        "bone_therapy_recommended": "alendronate",
        "calcium_vitamin_d_recommended": "yes",
        "falls_assessment": "assessed",
        "fallen_past_12_months": "no",
        "strength_balance_referred": "yes",
        "followup_16w": "yes",
        "date_followup_16w": "2024-06-10",
        "bone_therapy_16w": "alendronate",
        "followup_52w": "yes",
        "date_followup_52w": "2025-02-20",
    }
    rows = [
        record(service_code="FLS02", nhs_number=nhs_number(40), **complete),
        record(service_code="FLS01", nhs_number=nhs_number(41)),
        record(service_code="WAL01", nhs_number=nhs_number(42), **complete),
    ]
    source = source_from_files(
        write_records(tmp_path / "r.csv", rows),
        write_services(tmp_path / "s.csv"),
        upload_date=AS_OF,
    )
    request = KpiRequest(parse_period("2024"), as_of=AS_OF, kpis=("kpi01",))
    levels = compute_levels(source, request, ("service", "region", "nation"))
    service = levels["service"].table
    # FLS02 and WAL01: every key field recorded (green). FLS01: the base record has sex and
    # fracture_site; followup_52w is not due by 2025-03-01 and bone_therapy_16w does not apply
    # (no 16-week follow-up), so 13 of the 17 fields count as missing.
    assert [value(service, u, "kpi01")["numerator"] for u in ("FLS01", "FLS02", "WAL01")] == [
        13,
        0,
        0,
    ]
    assert value(service, "FLS01", "kpi01")["rag"] == "red"
    assert value(service, "FLS02", "kpi01")["rag"] == "green"
    region = value(levels["region"].table, "QE1", "kpi01")
    assert (region["numerator"], region["denominator"], region["percent"]) == (1, 2, 50.0)
    assert region["rag"] is None and region["ci_low"] is None
    nation = value(levels["nation"].table, "all", "kpi01")
    assert (nation["numerator"], nation["denominator"], nation["percent"]) == (2, 3, 66.7)


def test_a_store_counts_days_from_its_stored_offsets(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """On SQLite no date is parsed per row: a gap is the offset stored at write time (files
    compute it from the dates, and the engines agree above)."""
    import sqlite3

    from flsdb.kpi.cells import store_layout
    from flsdb.storage.figures import rebuild

    source = make_source("sqlite", tmp_path, request)
    assert value(run(source, "nation", kpis=("kpi05",)), "all", "kpi05")["numerator"] == 2
    compiler = Compiler(source.table, load_catalogue(), AS_OF, "sqlite")
    sql = ibis.to_sql(source.table.select(met=compiler.within_days("date_dxa", 90)), "sqlite")
    assert "date_dxa_days" in sql and "julianday" not in sql.lower()
    with sqlite3.connect(tmp_path / "kpi.db") as conn:
        # R8's DXA was on the day of the fracture; stored as 200 days, it no longer counts.
        conn.execute("UPDATE records SET date_dxa_days = 200 WHERE service_code = 'FLS02'")
        # A write behind flsdb's back keeps no figures: rebuilt (flsdb db rebuild-figures), they
        # count the stored offsets too.
        rebuild(conn.execute, "sqlite", store_layout())
    assert value(run(source, "nation", kpis=("kpi05",)), "all", "kpi05")["numerator"] == 1


def test_each_condition_is_computed_once_per_row(source: RecordSource) -> None:
    """Every distinct leaf (here `followup_16w = 'yes'`, which KPI 1's completeness counts use
    twice and KPI 9's numerator once) appears once in the compiled query, identical counts are
    one column, and SQLite runs the leaves as a co-routine (not flattened into every count)."""
    catalogue = load_catalogue()
    query, columns = count_query(
        source.table,
        source.backend,
        catalogue,
        catalogue.measures,
        AS_OF.replace(year=2024, month=1, day=1),
        AS_OF.replace(year=2024, month=12, day=31),
        AS_OF,
        "service",
    )
    dialect = {"spark": "pyspark"}.get(source.backend, source.backend)
    sql = ibis.to_sql(query, dialect=dialect)
    assert len(re.findall(r"followup_16w.{0,12}= 'yes'", sql)) == 1
    assert columns["kpi04__den"] == columns["kpi05__den"] != columns["kpi03__den"]
    assert len(set(columns.values())) < len(columns)
    if source.backend == "sqlite":
        plan = query._find_backend().raw_sql(f"EXPLAIN QUERY PLAN {sql}").fetchall()
        assert any("CO-ROUTINE" in row[-1] for row in plan), plan


def test_kpis_4_and_5_leave_out_patients_whose_90_days_have_not_passed(
    source: RecordSource,
) -> None:
    """On 15 Jan 2025 the fractures after 17 Oct 2024 (R4, R6, R7) are not yet due at 90 days:
    they are counted as not yet due, not as failures. R1 (assessed at 90 days) and R8 (on the
    day) meet kpi04; R2 (DXA at 12 days) and R8 meet kpi05; R4 was assessed on the day but is
    not yet due, so it is in neither count."""
    early = dt.date(2025, 1, 15)
    request = KpiRequest(parse_period("2024"), by="nation", as_of=early, kpis=("kpi04", "kpi05"))
    table = compute_kpis(source, request).table
    kpi04, kpi05 = value(table, "all", "kpi04"), value(table, "all", "kpi05")
    assert (kpi04["numerator"], kpi04["denominator"], kpi04["not_due"]) == (2, 6, 3)
    assert (kpi05["numerator"], kpi05["denominator"], kpi05["not_due"]) == (2, 6, 3)


def test_identification_of_a_period_not_yet_ended_expects_its_days_so_far(
    source: RecordSource,
) -> None:
    """2024 seen on 1 Jul 2024: the expected caseload is 400 x 183 / 366 = 200, not 400."""
    request = KpiRequest(
        parse_period("2024"), by="nation", as_of=dt.date(2024, 7, 1), kpis=("kpi02",)
    )
    row = value(compute_kpis(source, request).table, "all", "kpi02")
    assert row["denominator"] == 200


def test_a_follow_up_not_done_for_a_reason_counts_as_not_followed_up(tmp_path: Path) -> None:
    """Issue 20: declined, unable to contact, died, moved away stay in kpi09 to kpi11's
    denominators and out of their numerators (the methodology's rule)."""
    recommended = {"bone_therapy_recommended": "alendronate"}
    followed = {
        "followup_16w": "yes",
        "date_followup_16w": "2024-06-10",
        "bone_therapy_16w": "alendronate",
        "followup_52w": "yes",
        "date_followup_52w": "2025-02-20",
        "bone_therapy_52w": "alendronate",
    }
    rows = [record(nhs_number=nhs_number(60), **recommended, **followed)]
    for i, reason in enumerate(("declined", "unable_to_contact", "died", "moved_away")):
        rows.append(
            record(
                nhs_number=nhs_number(61 + i),
                followup_16w=reason,
                followup_52w=reason,
                **recommended,
            )
        )
    source = source_from_files(
        write_records(tmp_path / "r.csv", rows),
        write_services(tmp_path / "s.csv"),
        upload_date=AS_OF,
    )
    request = KpiRequest(
        parse_period("2024"), by="nation", as_of=dt.date(2025, 6, 1), kpis=("kpi09", "kpi11")
    )
    table = compute_kpis(source, request).table
    for kpi in ("kpi09", "kpi11"):
        found = value(table, "all", kpi)
        assert (found["numerator"], found["denominator"]) == (1, 5), kpi
