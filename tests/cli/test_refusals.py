"""Bad command lines, through the `flsdb` command's entry point (in-process, as tests/command.py
explains): one sentence, a non-zero exit, no traceback, and nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.test_cli import setup_db
from tests.command import flsdb_here as flsdb
from tests.factory import write_records
from tests.kpi.cases import ROWS


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("db")
    path = setup_db(folder)
    result = flsdb("import", str(write_records(folder / "r.csv", ROWS)), "--db", path, cwd=folder)
    assert result.returncode == 0, result.stderr
    return path


CASES = [
    (["kpis"], "Missing option '--period'"),
    (["kpis", "--period", "2024", "--as-of", "31/01/2026"], "'31/01/2026' is not a date"),
    (["kpis", "--period", "2024", "--by", "nope"], "'nope' is not one of"),
    (["kpis", "--period", "2024", "--format", "pdf"], "'pdf' is not one of"),
    (["kpis", "--period", "2024-13"], "'2024-13' is not a period"),
    (["kpis", "--period", "0001"], "give a year from 1900 to 2199"),
    (["kpis", "--period", "2024", "--as-of", "0001-01-01"], "give one from 1900 to 2199"),
    (["kpis", "--period", "2024", "--kpi", "kpi99"], "unknown KPI kpi99"),
    (["kpis", "--period", "2024", "--service", "NOPE"], "unknown service NOPE"),
    (["kpis", "--period", "2024", "--records", "r.csv"], "--records and --services go together"),
    (["report", "--period", "2024", "--fls", "NOPE"], "Unknown FLS NOPE for --fls"),
    (["report", "--period", "2024", "--region", "XX9"], "Unknown region XX9 for --region"),
    (["report", "--period", "2024", "--spc-baseline", "1"], "is not a baseline"),
    (["report", "--period", "2024", "--spc-baseline", "2024-05:2024-01"], "is not a baseline"),
    (["report", "--period", "2024", "--funnel-method", "magic"], "'magic' is not one of"),
    (["report", "--period", "2024", "--suppression-threshold", "0"], "--suppression-threshold"),
    (["report", "--period", "2024", "--config", "missing.yaml"], "Cannot read the thresholds file"),
    (["stats", "funnel", "missing.csv"], "no such file"),
    (["import", "not-a-table.csv"], "does not look like a comma-separated file"),
    (
        ["delete-record", "--service", "X", "--nhs-number", "1", "--fracture-date", "1/1/24"],
        "is not a date",
    ),
    (["nonsense"], "No such command 'nonsense'"),
    (["import", "."], "is a folder"),
    (["synth", "--out", "not-a-table.csv"], "is a file; give a folder"),
]


@pytest.mark.parametrize(("args", "message"), CASES, ids=[" ".join(a) for a, _ in CASES])
def test_bad_command_lines_get_one_sentence(
    args: list[str], message: str, db: str, tmp_path: Path
) -> None:
    (tmp_path / "not-a-table.csv").write_text("just one column\nand a value\n")
    needs_db = args[0] in ("kpis", "report", "import", "delete-record")
    extra = ["--db", db] if needs_db else []
    if args[0] == "report":
        extra += ["--out", str(tmp_path / "reports")]
    result = flsdb(*args, *extra, cwd=tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    assert message in " ".join(result.stderr.split()), result.stderr
    assert not (tmp_path / "reports").exists()  # a refused command writes nothing


def test_import_needs_services_first_and_creates_nothing(tmp_path: Path) -> None:
    path = write_records(tmp_path / "r.csv", ROWS)
    missing = flsdb("import", str(path), "--db", str(tmp_path / "new.db"), cwd=tmp_path)
    assert missing.returncode == 1 and "No database at" in missing.stderr
    assert not (tmp_path / "new.db").exists()
    empty = tmp_path / "empty.db"
    assert flsdb("db", "upgrade", "--db", str(empty), cwd=tmp_path).returncode == 0
    result = flsdb("import", str(path), "--db", str(empty), cwd=tmp_path)
    assert result.returncode == 1 and "has no services yet" in " ".join(result.stderr.split())


def test_a_missing_database_is_not_created(tmp_path: Path) -> None:
    result = flsdb("kpis", "--period", "2024", "--db", str(tmp_path / "missing.db"), cwd=tmp_path)
    assert result.returncode == 1
    assert "No database at" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "missing.db").exists()
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database" * 200)
    result = flsdb("kpis", "--period", "2024", "--db", str(junk), cwd=tmp_path)
    assert result.returncode == 1 and "not an SQLite database file" in result.stderr


def test_as_of_before_the_end_of_the_period_warns(db: str, tmp_path: Path) -> None:
    result = flsdb(
        "kpis", "--period", "2024", "--by", "nation", "--as-of", "2024-06-30", "--db", db,
        "--format", "csv", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Warning: --as-of 2024-06-30 is before the end of 2024" in " ".join(
        result.stderr.split()
    )


def test_rich_markup_in_values_is_shown_not_rendered(db: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    rows = [dict(ROWS[0], sex="[/]"), dict(ROWS[1], fracture_site="[link=http://x]hip[/link]")]
    write_records(bad, rows)
    result = flsdb("import", str(bad), "--db", db, cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "[/]" in result.stderr and "[link=http://x]hip[/link]" in result.stderr
