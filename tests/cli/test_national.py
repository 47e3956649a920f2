"""A national FLS-DB export as an FLS brings it: `flsdb import --profile fls-db` gives the KPIs
the same data gives in flsdb's format, `flsdb export` writes it back in the national layout (and
imports again unchanged), `flsdb profile detect` says what fits, and the report's methods count
the sites a 2023 export left coarse. The command runs in-process (tests/command.py)."""

from __future__ import annotations

import csv
import io
import json
import re
from html import unescape
from pathlib import Path

import pytest

from tests.command import flsdb_here as flsdb
from tests.factory import record, write_records
from tests.profiles.data import SERVICE, of_year, services_file
from tests.profiles.national import HEADERS, NG249, national_csv, national_row

AS_OF = "2026-01-31"
COARSE = ("humerus", "pelvis", "wrist")


def _run(*args: str, cwd: Path, code: int = 0) -> str:
    result = flsdb(*args, cwd=cwd)
    assert result.returncode == code, result.stderr + result.stdout
    assert "Traceback" not in result.stderr
    return result.stdout + result.stderr


def _database(folder: Path, name: str) -> str:
    db = str(folder / f"{name}.db")
    _run("load-services", str(services_file(folder)), "--db", db, cwd=folder)
    return db


def _kpis(db: str, period: str, folder: Path) -> list[dict[str, object]]:
    out = flsdb(
        "kpis", "--period", period, "--as-of", AS_OF, "--format", "json", "--db", db, cwd=folder
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def _coarse(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    sites = ("fracture_site", "fracture_site_2", "fracture_site_3")
    return [{**r, **{c: "other" for c in sites if r[c] in COARSE}} for r in rows]


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The same FLS's records in two stores: from flsdb's format, and from national exports
    (2024 in Windows-1252 with semicolons, 2023 in UTF-8 with a byte-order mark)."""
    folder = tmp_path_factory.mktemp("national")
    own = _database(folder, "own")
    rows = of_year(2024) + _coarse(of_year(2023))
    _run("import", str(write_records(folder / "own.csv", rows)), "--db", own, cwd=folder)
    national = _database(folder, "national")
    # Excel's garbled apostrophe makes the file Windows-1252 as a real export is (not ASCII).
    rows_2024 = [
        {k: "Donít know" if v == "Don't know" else v for k, v in national_row(r, 2024).items()}
        for r in of_year(2024)
    ]
    export_2024 = national_csv(
        folder / "FLS-DB export 2024.csv", rows_2024, encoding="windows-1252", delimiter=";"
    )
    export_2023 = national_csv(
        folder / "fls-db-2023.csv",
        [national_row(r, 2023) for r in of_year(2023)],
        encoding="utf-8-sig",
    )
    outputs = []
    for year, path in (("2024", export_2024), ("2023", export_2023)):
        said = _run(
            "import",
            str(path),
            "--profile",
            "fls-db",
            "--service",
            SERVICE.lower(),
            "--db",
            national,
            "--errors",
            str(folder / f"issues-{year}.csv"),
            cwd=folder,
        )
        issues = list(csv.DictReader((folder / f"issues-{year}.csv").open(encoding="utf-8")))
        outputs.append((said, issues))
    return {"folder": folder, "own": own, "national": national, "outputs": outputs}


def test_a_national_export_imports_to_the_same_kpis_as_flsdb_format(
    imported: dict[str, object],
) -> None:
    folder, own, national = imported["folder"], imported["own"], imported["national"]
    assert isinstance(folder, Path) and isinstance(own, str) and isinstance(national, str)
    (first, first_issues), (_, second_issues) = imported["outputs"]  # type: ignore[misc]
    assert f"{len(of_year(2024))} inserted" in first
    notes = {(i["level"], i["column"], i["message"]) for i in first_issues}
    assert (
        "info",
        "",
        "FLS-DB export 2024.csv was read as Windows-1252 text, with semicolons between columns.",
    ) in notes
    assert ("info", "2.01 Height", "not used by flsdb: not an audit field of flsdb") in notes
    assert not [i for i in first_issues if i["level"] == "error"]
    (lossy,) = [i for i in second_issues if i["column"] == "1.11 SiteFirstFrac"]
    assert lossy["level"] == "warning"
    assert "'Non hip/non spine' (the 2023 FLS-DB layout) is stored as 'other'" in lossy["message"]
    for period in ("2024", "2023"):
        expected = _kpis(own, period, folder)
        assert any(row["numerator"] for row in expected)
        assert _kpis(national, period, folder) == expected


def test_export_writes_the_national_layout_and_imports_back_unchanged(
    imported: dict[str, object],
) -> None:
    folder, national = imported["folder"], imported["national"]
    assert isinstance(folder, Path) and isinstance(national, str)
    out = folder / "back.csv"
    said = _run(
        "export",
        "--service",
        SERVICE,
        "--period",
        "2024",
        "--out",
        str(out),
        "--db",
        national,
        cwd=folder,
    )
    count = len(of_year(2024))
    assert f"Wrote {count:,} records of {SERVICE} diagnosed in 2024" in said
    assert "Not in this layout (not written): " + ", ".join(NG249) in said
    raw = out.read_bytes()
    assert raw.startswith(b"1.01 NHS Number,1.02 Date of Birth,1.03 Gender") and b"\r\n" in raw
    text = raw.decode("windows-1252")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == count
    numbers = [h.split(" ")[0] for h in HEADERS]
    assert [h.split(" ")[0] for h in rows[0]] == numbers
    wanted = {national_row(r)["1.01 NHS Number"]: national_row(r) for r in of_year(2024)}
    for row in rows:
        source = wanted[row["1.01 NHS Number"]]
        for title, value in row.items():
            if title in source and not title.startswith(("1.06", "2.01")):
                assert value == source[title], (title, value, source[title])
    again = _run(
        "import",
        str(out),
        "--profile",
        "fls-db",
        "--service",
        SERVICE,
        "--db",
        national,
        cwd=folder,
    )
    assert f"0 inserted, 0 updated, {count} unchanged" in again
    fresh = _database(folder, "fresh")
    _run("import", str(out), "--profile", "fls-db", "--service", SERVICE, "--db", fresh, cwd=folder)
    assert _kpis(fresh, "2024", folder) == _kpis(national, "2024", folder)


def test_export_in_the_2023_layout(imported: dict[str, object]) -> None:
    folder, national = imported["folder"], imported["national"]
    assert isinstance(folder, Path) and isinstance(national, str)
    out = folder / "old.csv"
    _run(
        "export",
        "--service",
        SERVICE,
        "--period",
        "2024",
        "--layout",
        "2023",
        "--out",
        str(out),
        "--db",
        national,
        cwd=folder,
    )
    sites = {row["1.11 SiteFirstFrac"] for row in csv.DictReader(out.open(encoding="cp1252"))}
    assert sites == {"Hip", "Spine", "Non hip/non spine"}


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--period", "2024"], 2, "Missing option '--service'"),
        (
            ["--service", SERVICE, "--period", "2024", "--fls", "OTHER1"],
            1,
            "you may export only your FLSs' records",
        ),
        (["--service", "NOPE1", "--period", "2024"], 1, "there is no FLS with that code"),
        (
            ["--service", SERVICE, "--period", "2024", "--profile", "nhfd"],
            1,
            "There is no mapping profile 'nhfd'",
        ),
        (["--service", SERVICE, "--period", "2024", "--layout", "1999"], 1, "has no layout '1999'"),
    ],
)
def test_export_refusals(
    imported: dict[str, object], args: list[str], code: int, message: str
) -> None:
    folder, national = imported["folder"], imported["national"]
    assert isinstance(folder, Path) and isinstance(national, str)
    out = folder / "refused.csv"
    said = _run("export", *args, "--out", str(out), "--db", national, cwd=folder, code=code)
    assert message in said
    assert not out.exists()


def test_profile_detect_says_what_fits_and_what_fails(tmp_path: Path) -> None:
    good = national_row(record(service_code=SERVICE))
    bad = {**national_row(record(service_code=SERVICE)), "1.03 Gender": "Femal"}
    path = national_csv(tmp_path / "export.csv", [good, bad])
    said = _run("profile", "detect", str(path), cwd=tmp_path)
    assert (
        "export.csv: the 'fls-db' profile (National FLS-DB export) fits, but some values would fail"
        in said
    )
    assert "32 column(s) map to flsdb fields, 13 are known and not used, 0 are not known" in said
    assert "fails: 1 value(s) of 1.03 Gender are not labels it reads (for example 'Femal')" in said
    assert "read as Windows-1252" not in said  # this file is plain ASCII: UTF-8
    assert "To import it: flsdb import" in said and "--profile fls-db --service CODE" in said
    own = write_records(tmp_path / "own.csv", [record()])
    assert "the 'flsdb' profile (flsdb upload format) fits." in _run(
        "profile", "detect", str(own), cwd=tmp_path
    )


def test_a_bad_label_refuses_the_file_and_stores_nothing(tmp_path: Path) -> None:
    db = _database(tmp_path, "bad")
    rows = [national_row(r) for r in of_year(2024)[:3]]
    rows[1]["4.01 BoneTherapy"] = "Alendronat"
    path = national_csv(tmp_path / "bad.csv", rows)
    said = _run(
        "import",
        str(path),
        "--profile",
        "fls-db",
        "--service",
        SERVICE,
        "--db",
        db,
        "--errors",
        str(tmp_path / "errors.csv"),
        cwd=tmp_path,
        code=1,
    )
    assert "1 error(s) in the file; nothing was stored" in said
    errors = list(csv.DictReader((tmp_path / "errors.csv").open()))
    (error,) = [e for e in errors if e["level"] == "error"]
    assert (error["row"], error["column"], error["value"]) == (
        "3",
        "4.01 BoneTherapy",
        "Alendronat",
    )
    assert "accepted: drug names (Alendronate," in error["message"]
    assert all(row["numerator"] in (0, None) for row in _kpis(db, "2024", tmp_path))


def test_import_refusals(tmp_path: Path) -> None:
    db = _database(tmp_path, "refusals")
    path = national_csv(tmp_path / "x.csv", [national_row(record(service_code=SERVICE))])
    refused = _run("import", str(path), "--profile", "fls-db", "--db", db, cwd=tmp_path, code=1)
    # The words for anyone, then what to give on the command line (the web shows no option).
    assert "has no column naming the FLS: say which FLS" in refused
    assert "--service CODE" in refused
    assert "--service ZZZ9: there is no FLS with that code" in _run(
        "import",
        str(path),
        "--profile",
        "fls-db",
        "--service",
        "zzz9",
        "--db",
        db,
        cwd=tmp_path,
        code=1,
    )
    assert "you may import only into" in _run(
        "import",
        str(path),
        "--profile",
        "fls-db",
        "--service",
        SERVICE,
        "--fls",
        "OTHER",
        "--db",
        db,
        cwd=tmp_path,
        code=1,
    )
    assert "None of the columns of x.csv is one the flsdb upload format has" in _run(
        "import", str(path), "--service", SERVICE, "--db", db, cwd=tmp_path, code=1
    )


def test_a_national_import_keeps_ng249_answers_stored_before(tmp_path: Path) -> None:
    db = _database(tmp_path, "ng249")
    rows = [dict(r, fallen_past_12_months="yes", living_with_frailty="no") for r in of_year(2024)]
    _run("import", str(write_records(tmp_path / "own.csv", rows)), "--db", db, cwd=tmp_path)
    before = _kpis(db, "2024", tmp_path)
    path = national_csv(tmp_path / "n.csv", [national_row(r) for r in rows])
    said = _run(
        "import", str(path), "--profile", "fls-db", "--service", SERVICE, "--db", db, cwd=tmp_path
    )
    assert f"0 inserted, 0 updated, {len(rows)} unchanged" in said
    assert _kpis(db, "2024", tmp_path) == before
    fa01 = [r for r in before if r["kpi"] == "fa01" and r["unit"] == SERVICE]
    assert fa01[0]["numerator"] == len(rows)


def test_the_report_methods_count_sites_from_the_2023_layout(imported: dict[str, object]) -> None:
    folder, national = imported["folder"], imported["national"]
    assert isinstance(folder, Path) and isinstance(national, str)
    coarse = sum(r["fracture_site"] in (*COARSE, "other") for r in of_year(2023))
    assert coarse >= 5
    _run(
        "report",
        "--period",
        "2023",
        "--as-of",
        AS_OF,
        "--no-pdf",
        "--no-region-reports",
        "--fls",
        SERVICE,
        "--out",
        str(folder / "reports"),
        "--db",
        national,
        cwd=folder,
    )
    # Synthetic data: the file names say so (issue 17).
    html = unescape(next((folder / "reports").glob("*national-report-2023.html")).read_text())
    words = "records diagnosed in 2023 have the index fracture site recorded as other"
    sentence = f"{coarse:,} {words}"
    # Published: the count, or 'c' where the intruder's audit withholds it (one FLS here, so
    # the national counts are its own); the FLS's own report gives it in full.
    published = re.sub(r"\s+", " ", html)
    assert sentence in published or f"c {words}" in published
    own_reports = folder / "reports" / "internal" / "fls"
    fls = unescape(next(own_reports.glob(f"*fls-report-{SERVICE}-*.html")).read_text())
    assert sentence in re.sub(r"\s+", " ", fls)
    own = imported["own"]
    assert isinstance(own, str)
    _run(
        "report",
        "--period",
        "2023",
        "--as-of",
        AS_OF,
        "--no-pdf",
        "--no-region-reports",
        "--no-fls-reports",
        "--out",
        str(folder / "own-reports"),
        "--db",
        own,
        cwd=folder,
    )
    own_file = next((folder / "own-reports").glob("*national-report-2023.html"))
    own_html = re.sub(r"\s+", " ", unescape(own_file.read_text()))
    # none of the own store's records came from a 2023 label: no sentence (not "0 records")
    assert "diagnosed in 2023 have the index fracture site" not in own_html
    assert "diagnosed in 2023 has the index fracture site" not in own_html
