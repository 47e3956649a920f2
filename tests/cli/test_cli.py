"""The command line as a user runs it: exit codes, messages, files, and clean stdout.

Most tests call the command's entry point in this process (`flsdb_here`, tests/command.py);
the installed command runs in a subprocess where that is the point: an import and KPIs with
stdout piped, and the demo end to end (Spark's from the command line: tests/kpi/test_spark.py)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl

from tests.command import flsdb, flsdb_here
from tests.factory import nhs_number, record, write_records, write_services
from tests.kpi.cases import ROWS
from tests.storage.test_concurrency import NUMBERS


def setup_db(tmp_path: Path) -> str:
    db = str(tmp_path / "cli.db")
    result = flsdb_here(
        "load-services", str(write_services(tmp_path / "services.csv")), "--db", db, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "3 inserted" in result.stdout
    return db


def test_import_errors_exit_1_store_nothing_and_write_csv(tmp_path: Path) -> None:
    db = setup_db(tmp_path)
    rows = [
        record(),
        record(nhs_number=nhs_number(3), sex="F"),
        record(nhs_number="123", fracture_site="knee"),
    ]
    result = flsdb_here(
        "import",
        str(write_records(tmp_path / "bad.csv", rows)),
        "--db",
        db,
        "--errors",
        str(tmp_path / "errors.csv"),
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "3 error(s) in the file; nothing was stored" in result.stderr
    with (tmp_path / "errors.csv").open() as handle:
        errors = list(csv.DictReader(handle))
    assert [(e["row"], e["column"]) for e in errors] == [
        ("3", "sex"),
        ("4", "fracture_site"),
        ("4", "nhs_number"),
    ]
    # Issue 20: the answers in words, the column name in its own column of the errors file.
    assert "allowed: Hip, Spine" in errors[1]["message"] and errors[1]["column"] == "fracture_site"
    again = flsdb_here(
        "kpis",
        "--period",
        "2024",
        "--by",
        "nation",
        "--format",
        "json",
        "--db",
        db,
        "--as-of",
        "2026-01-31",
        cwd=tmp_path,
    )
    first = json.loads(again.stdout)[0]  # kpi01, England: no FLS has records
    assert (first["kpi"], first["denominator"], first["percent"]) == ("kpi01", 0, None)


def test_import_then_kpis_json_and_csv(tmp_path: Path) -> None:
    db = setup_db(tmp_path)
    path = write_records(tmp_path / "records.csv", ROWS)
    # The installed command with piped stdout (a true subprocess); the rest in-process.
    first = flsdb("import", str(path), "--db", db, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "10 rows - 10 inserted, 0 updated, 0 unchanged" in first.stdout
    second = flsdb_here("import", str(path), "--db", db, cwd=tmp_path)
    assert "0 inserted, 0 updated, 10 unchanged" in second.stdout
    result = flsdb_here(
        "kpis",
        "--period",
        "2024",
        "--by",
        "nation",
        "--as-of",
        "2025-03-01",
        "--format",
        "json",
        "--db",
        db,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert all(
        list(r)
        == [
            "level",
            "unit",
            "period",
            "kpi",
            "numerator",
            "denominator",
            "percent",
            "ci_low",
            "ci_high",
            "rag",
            "not_due",
        ]
        for r in rows
    )
    kpi09 = next(r for r in rows if r["unit"] == "all" and r["kpi"] == "kpi09")
    assert kpi09 == {
        "level": "nation",
        "unit": "all",
        "period": "2024",
        "kpi": "kpi09",
        "numerator": 3,
        "denominator": 5,
        "percent": 60.0,
        "ci_low": 23.1,
        "ci_high": 88.2,
        "rag": "amber",
        "not_due": 2,
    }
    assert "records in 2024" in result.stderr
    as_csv = flsdb_here(
        "kpis",
        "--period",
        "2024-Q1",
        "--by",
        "service",
        "--as-of",
        "2025-03-01",
        "--format",
        "csv",
        "--kpi",
        "kpi07",
        "--db",
        db,
        cwd=tmp_path,
    )
    lines = as_csv.stdout.strip().splitlines()
    assert (
        lines[0] == "level,unit,period,kpi,numerator,denominator,percent,ci_low,ci_high,rag,not_due"
    )
    assert lines[1].startswith("service,FLS01,2024-Q1,kpi07,2,3,66.7,")


def test_kpis_on_files_with_duckdb(tmp_path: Path) -> None:
    services = write_services(tmp_path / "services.csv")
    records = write_records(tmp_path / "records.csv", ROWS)
    result = flsdb_here(
        "kpis",
        "--period",
        "2024",
        "--by",
        "region",
        "--as-of",
        "2025-03-01",
        "--format",
        "json",
        "--records",
        str(records),
        "--services",
        str(services),
        "--kpi",
        "kpi03",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert [(r["unit"], r["numerator"], r["denominator"]) for r in json.loads(result.stdout)] == [
        ("7A1", 0, 1),
        ("QE1", 2, 8),
    ]


def test_bad_options_and_files_are_clear(tmp_path: Path) -> None:
    bad_period = flsdb_here("kpis", "--period", "2024-13", cwd=tmp_path)
    assert bad_period.returncode == 1
    assert "'2024-13' is not a period" in bad_period.stderr
    (tmp_path / "empty.csv").write_text("")
    empty = flsdb_here(
        "import", str(tmp_path / "empty.csv"), "--db", str(tmp_path / "x.db"), cwd=tmp_path
    )
    assert empty.returncode == 1
    assert "empty.csv is empty" in empty.stderr
    assert "Traceback" not in empty.stderr
    missing = flsdb_here(
        "import", str(tmp_path / "nope.csv"), "--db", str(tmp_path / "x.db"), cwd=tmp_path
    )
    assert missing.returncode == 1
    assert "no such file" in missing.stderr


def test_permission_to_write_a_service(tmp_path: Path) -> None:
    db = setup_db(tmp_path)
    path = write_records(tmp_path / "r.csv", [record(service_code="FLS02")])
    result = flsdb_here("import", str(path), "--db", db, "--fls", "FLS01", cwd=tmp_path)
    assert result.returncode == 1
    assert "you may not upload records for the FLS 'FLS02'" in result.stderr


def test_template_and_dictionary(tmp_path: Path) -> None:
    result = flsdb_here("template", "--out", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    header = (tmp_path / "records-template.csv").read_text().strip().split(",")
    assert header[:3] == ["service_code", "nhs_number", "date_of_birth"]
    assert len(header) == 37
    book = openpyxl.load_workbook(tmp_path / "records-template.xlsx")
    sheet = book["records"]
    sex_col = header.index("sex") + 1
    letter = openpyxl.utils.get_column_letter(sex_col)
    rules = [dv for dv in sheet.data_validations.dataValidation if f"{letter}2" in str(dv.sqref)]
    assert rules and rules[0].type == "list"
    codes = [book["codes"].cell(row=r, column=sex_col).value for r in range(2, 6)]
    assert codes == ["female", "male", "other", "not_known"]
    doc = tmp_path / "dictionary.md"
    assert flsdb_here("dictionary", "--out", str(doc), cwd=tmp_path).returncode == 0
    text = doc.read_text()
    assert "| `bone_therapy_recommended` | 4.01 | no |" in text


def test_delete_record_command(tmp_path: Path) -> None:
    db = setup_db(tmp_path)
    flsdb_here(
        "import", str(write_records(tmp_path / "r.csv", [record()])), "--db", db, cwd=tmp_path
    )
    args = (
        "delete-record",
        "--service",
        "fls01",
        "--nhs-number",
        nhs_number(0),
        "--fracture-date",
        "2024-03-01",
        "--db",
        db,
    )
    assert flsdb_here(*args, cwd=tmp_path).returncode == 0
    gone = flsdb_here(*args, cwd=tmp_path)
    assert gone.returncode == 1
    assert "nothing was deleted" in gone.stderr


def test_import_and_kpis_on_postgresql(tmp_path: Path, postgres_admin_url: str) -> None:
    from tests.conftest import _fresh_postgres

    url = _fresh_postgres(postgres_admin_url)
    services = flsdb_here(
        "load-services", str(write_services(tmp_path / "s.csv")), "--db", url, cwd=tmp_path
    )
    assert services.returncode == 0, services.stderr
    imported = flsdb_here(
        "import", str(write_records(tmp_path / "r.csv", ROWS)), "--db", url, cwd=tmp_path
    )
    assert "10 inserted" in imported.stdout, imported.stderr
    result = flsdb_here(
        "kpis",
        "--period",
        "2024",
        "--by",
        "nation",
        "--as-of",
        "2025-03-01",
        "--format",
        "json",
        "--kpi",
        "kpi11",
        "--db",
        url,
        cwd=tmp_path,
    )
    rows = {
        r["unit"]: (r["numerator"], r["denominator"], r["not_due"])
        for r in json.loads(result.stdout)
    }
    assert rows == {"england": (1, 2, 4), "wales": (0, 0, 1), "all": (1, 2, 5)}


def test_stats_funnel_on_the_reference_file(tmp_path: Path) -> None:
    reference = Path(__file__).parents[1] / "data"
    source = reference / "phe_testdata_funnel_prop_inputs.csv"
    result = flsdb_here("stats", "funnel", str(source), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(result.stdout.splitlines()))
    assert len(rows) == 303
    assert list(rows[0])[-6:] == ["percent", "lower95", "upper95", "lower998", "upper998", "flag"]
    assert rows[0]["numerator"] == "35078.488"  # input columns kept as they were
    assert rows[0]["flag"] == "high_alarm" and rows[1]["flag"] == "low_alarm"
    assert "target 80.642448%" in result.stderr
    wide = flsdb_here(
        "stats",
        "funnel",
        str(source),
        "--overdispersion",
        "multiplicative",
        "--method",
        "arcsine",
        "--target",
        "80",
        cwd=tmp_path,
    )
    flags = [r["flag"] for r in csv.DictReader(wide.stdout.splitlines())]
    assert flags.count("inside") > 32


def test_stats_spc_charts(tmp_path: Path) -> None:
    p_file = tmp_path / "p.csv"
    p_file.write_text(
        "month,numerator,denominator\n"
        + "".join(
            f"2024-{m:02d},{n},50\n" for m, n in enumerate([12, 15, 8, 10, 4, 7, 16, 9, 14, 22], 1)
        )
    )
    result = flsdb_here("stats", "spc", str(p_file), "--chart", "p", cwd=tmp_path)
    rows = list(csv.DictReader(result.stdout.splitlines()))
    assert list(rows[0]) == [
        "month",
        "numerator",
        "denominator",
        "centre",
        "lower",
        "upper",
        "signal",
    ]
    assert rows[-1]["signal"] == "outside"
    x_file = tmp_path / "x.csv"
    x_file.write_text("value\n" + "\n".join(str(v) for v in [5] * 3 + [9] * 8))
    xmr = list(
        csv.DictReader(
            flsdb_here(
                "stats", "spc", str(x_file), "--chart", "xmr", "--baseline", "3", cwd=tmp_path
            ).stdout.splitlines()
        )
    )
    assert "shift" in xmr[-1]["signal"]
    run = flsdb_here("stats", "spc", str(x_file), "--chart", "run", cwd=tmp_path)
    assert run.returncode == 0 and "longest run" in run.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("value\n1\nlots\n")
    failed = flsdb_here("stats", "spc", str(bad), "--chart", "xmr", cwd=tmp_path)
    assert failed.returncode == 1
    assert "row 3: value 'lots' is not a number" in failed.stderr


def spread_records(count: int) -> list[dict[str, str]]:
    """`count` records shared out over the three FLSs (two regions) and the months of 2024."""
    codes = ("FLS01", "FLS02", "WAL01")
    return [
        record(
            service_code=codes[i % 3],
            nhs_number=number,
            date_fracture_diagnosed=f"2024-{i % 12 + 1:02d}-10",
        )
        for i, number in enumerate(NUMBERS[:count])
    ]


def test_report_command(tmp_path: Path) -> None:
    db = setup_db(tmp_path)
    # 600 records spread over the FLSs and months rather than the KPI cases' 10: the command
    # writes the same files, and the disclosure check of counts this size has few small cells
    # to withhold (20 CPU s for the 10 hand-built records, 7.5 for these; suppression itself is
    # tested in tests/reports and tests/disclosure).
    records = write_records(tmp_path / "r.csv", spread_records(600))
    assert flsdb_here("import", str(records), "--db", db, cwd=tmp_path).returncode == 0
    result = flsdb_here(
        "report",
        "--period",
        "2024",
        "--as-of",
        "2025-03-01",
        "--db",
        db,
        "--out",
        str(tmp_path / "reports"),
        "--fls",
        "fls01",
        "--no-pdf",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "reports" / "national-report-2024.html").exists()
    # An FLS's own report (unsuppressed, for that FLS) is kept under internal/ (issue 17).
    own = tmp_path / "reports" / "internal" / "fls"
    assert (own / "fls-report-FLS01-2024.html").exists()
    assert not (own / "fls-report-FLS02-2024.html").exists()
    assert not (tmp_path / "reports" / "fls").exists()
    assert (tmp_path / "reports" / "regions" / "region-report-QE1-2024.html").exists()
    assert "Region reports: 2" in result.stdout


def test_demo_end_to_end_on_a_small_country(tmp_path: Path) -> None:
    """The README's main job, small: store, show, write; a second run finds nothing new."""
    out = tmp_path / "demo"
    result = flsdb("demo", "--out", str(out), "--records", "1500", "--services", "6", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    # Synthetic data: every output's name says so (issue 17); FLS reports are internal.
    for name in (
        "flsdb-demo.db",
        "internal/synthetic-kpis-service-2024.csv",
        "internal/synthetic-README.txt",
        "synthetic-national-report-2024.pdf",
        "synthetic-benchmark-fls-2024.csv",
        "synthetic-benchmark-2024.xlsx",
    ):
        assert (out / name).exists(), name
    assert len(list((out / "internal" / "fls").glob("synthetic-fls-report-*.pdf"))) == 1
    # The internal folder's note too: no file of the demo's outputs goes unmarked.
    unmarked = [p.name for p in out.rglob("*") if p.is_file() and p.parent != out / "data"]
    unmarked = [n for n in unmarked if not n.startswith(("synthetic-", "flsdb-demo", "demo-"))]
    assert not [n for n in unmarked if not n.startswith(".")], unmarked
    accounts = (out / "demo-accounts.txt").read_text().splitlines()
    assert (out / "demo-accounts.txt").stat().st_mode & 0o777 == 0o600
    roles = [line.split("\t")[2] for line in accounts[1:]]
    assert roles == ["fls_staff", "region_viewer", "national_analyst", "admin"]
    first_passwords = [line.split("\t")[1] for line in accounts[1:]]
    assert "flsdb serve --db" in result.stdout
    # The second run writes HTML only (its reports are the first run's again).
    again = flsdb_here(
        "demo", "--out", str(out), "--records", "1500", "--services", "6", "--no-pdf", cwd=tmp_path
    )
    assert again.returncode == 0, again.stderr
    assert "(0 inserted, 0 updated" in again.stdout
    # Each run gives the demo accounts new passwords: none is fixed anywhere.
    second = (out / "demo-accounts.txt").read_text().splitlines()
    assert not set(first_passwords) & {line.split("\t")[1] for line in second[1:]}


def test_synth_parquet_and_kpis_on_duckdb_and_spark_agree(spark: object, tmp_path: Path) -> None:
    """The same seed as CSV and as Parquet: DuckDB over the validated CSV, DuckDB over the
    Parquet extract and Spark over it give one KPI table. The command runs in-process, so
    `--engine spark` finds the tests' Spark session (one JVM for the run, tests/conftest.py);
    the installed command's Spark is test_spark.py's Spark Connect test."""
    outputs = []
    for records_format in ("csv", "parquet"):
        made = flsdb_here(
            "synth",
            "--services",
            "8",
            "--records",
            "1500",
            "--history-years",
            "0",
            "--format",
            records_format,
            "--out",
            str(tmp_path / records_format),
            cwd=tmp_path,
        )
        assert made.returncode == 0, made.stderr
        assert f"records.{records_format} (1500 records" in made.stdout
    common = ("kpis", "--period", "2024", "--by", "region", "--as-of", "2026-01-31")
    common += ("--format", "json", "--services", str(tmp_path / "csv" / "services.csv"))
    for records, engine in (
        ("csv/records.csv", ()),
        ("parquet/records.parquet", ()),
        ("parquet/records.parquet", ("--engine", "spark", "--spark-master", "local[1]")),
    ):
        result = flsdb_here(*common, "--records", str(tmp_path / records), *engine, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        outputs.append(json.loads(result.stdout))
    assert len(outputs[0]) > 19 and outputs[0][0]["denominator"] > 0
    assert outputs[1] == outputs[0]
    assert outputs[2] == outputs[0]


def test_engine_options_are_checked(tmp_path: Path) -> None:
    services = str(write_services(tmp_path / "services.csv"))
    records = str(write_records(tmp_path / "records.csv", ROWS))
    cases = [
        (("--engine", "spark"), "--engine spark runs on files: give --records and --services"),
        (
            ("--records", records, "--services", services, "--spark-master", "local[1]"),
            "--spark-master goes with --engine spark.",
        ),
        (("--records", records, "--services", services, "--engine", "excel"), "Invalid value"),
    ]
    for options, message in cases:
        result = flsdb_here("kpis", "--period", "2024", *options, cwd=tmp_path)
        assert result.returncode in (1, 2), result.stderr
        assert message in result.stderr
        assert "Traceback" not in result.stderr
