"""`flsdb import` keeps stored values where the file is blank (or lacks the column), and
`--blank clear` clears them (issue 16)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.cli.test_cli import setup_db
from tests.command import flsdb_here as flsdb
from tests.factory import nhs_number, record, write_csv, write_records

KEY = {
    "service_code": "FLS01",
    "nhs_number": nhs_number(5),
    "date_fracture_diagnosed": "2024-07-01",
}
FULL = record(
    **KEY,
    date_fls_assessment="2024-07-20",
    dxa="performed",
    date_dxa="2024-08-01",
    t_score="-2.7",
    falls_assessment="assessed",
    fallen_past_12_months="yes",
)
FIELDS = (
    "date_fls_assessment",
    "dxa",
    "date_dxa",
    "t_score",
    "falls_assessment",
    "date_followup_16w",
)


def _stored(db: str) -> tuple[object, ...]:
    with sqlite3.connect(db) as conn:
        row = conn.execute(f"SELECT {', '.join(FIELDS)}, version FROM records").fetchone()
    return tuple(row)


def test_import_keeps_blanks_unless_blank_clear(tmp_path: Path) -> None:
    db = setup_db(tmp_path)
    first = flsdb(
        "import", str(write_records(tmp_path / "full.csv", [FULL])), "--db", db, cwd=tmp_path
    )
    assert first.returncode == 0, first.stderr
    # The key and the 16-week follow-up only: every other column absent.
    follow = {**KEY, "followup_16w": "yes", "date_followup_16w": "2024-10-20"}
    path = write_csv(tmp_path / "follow.csv", [follow], list(follow))
    kept = flsdb("import", str(path), "--db", db, cwd=tmp_path)
    assert kept.returncode == 0, kept.stderr
    assert "0 inserted, 1 updated" in kept.stdout
    assert _stored(db) == (
        "2024-07-20",
        "performed",
        "2024-08-01",
        -2.7,
        "assessed",
        "2024-10-20",
        2,
    )
    # Every column, blank but for the required ones: with --blank clear the blanks clear.
    blank = record(**KEY, followup_16w="yes", date_followup_16w="2024-10-20")
    path = write_records(tmp_path / "blank.csv", [blank])
    same = flsdb("import", str(path), "--db", db, cwd=tmp_path)
    assert "0 inserted, 0 updated, 1 unchanged" in same.stdout
    cleared = flsdb("import", str(path), "--db", db, "--blank", "clear", cwd=tmp_path)
    assert cleared.returncode == 0, cleared.stderr
    assert _stored(db) == (None, None, None, None, None, "2024-10-20", 3)
    wrong = flsdb("import", str(path), "--db", db, "--blank", "wipe", cwd=tmp_path)
    assert wrong.returncode != 0 and "Traceback" not in wrong.stderr
    assert "blank must be 'keep'" in wrong.stderr
