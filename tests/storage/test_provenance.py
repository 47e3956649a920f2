"""Sites a 2023 FLS-DB export left coarse, counted from the audit trail on SQLite and PostgreSQL:
noted by the import that wrote them, no longer counted once a later import or an edit gives the
site, and never a half-written note when the import fails."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from flsdb.dictionary import load_dictionary
from flsdb.errors import ValidationFailed
from flsdb.ingest import open_upload, validate
from flsdb.ingest.mapped import apply_profile, text_options
from flsdb.profiles import load_profile
from flsdb.storage import store_records, store_services
from flsdb.storage.provenance import sites_from_lost_labels
from flsdb.storage.tables import audit_log
from tests.factory import nhs_number, record, write_records, write_services
from tests.profiles.national import national_csv, national_row

YEAR = (dt.date(2023, 1, 1), dt.date(2023, 12, 31))
SITES = ["wrist", "humerus", "other", "hip", "pelvis", "spine"]


def _rows(sites: list[str]) -> list[dict[str, str]]:
    return [
        record(nhs_number=nhs_number(i), date_fracture_diagnosed="2023-05-01", fracture_site=site)
        for i, site in enumerate(sites)
    ]


def _import_national(engine: Engine, path: Path, rows: list[dict[str, str]], year: int) -> None:
    national_csv(path, [national_row(r, year) for r in rows])
    profile = load_profile("fls-db")
    upload = apply_profile(
        open_upload(path, text=text_options(profile)), profile, load_dictionary(), "FLS01"
    )
    table = validate(upload, "records", known_services={"FLS01"}, upload_date=dt.date(2026, 1, 1))
    store_records(engine, table, "test")


@pytest.fixture
def stored(engine: Engine, tmp_path: Path) -> Engine:
    store_services(engine, validate(open_upload(write_services(tmp_path / "s.csv")), "services"))
    return engine


def test_the_count_follows_the_import_that_last_wrote_the_site(
    stored: Engine, tmp_path: Path
) -> None:
    _import_national(stored, tmp_path / "2023.csv", _rows(SITES), 2023)
    assert sites_from_lost_labels(stored, *YEAR) == {"FLS01": 4}  # wrist, humerus, other, pelvis
    _import_national(stored, tmp_path / "again.csv", _rows(SITES), 2023)
    assert sites_from_lost_labels(stored, *YEAR) == {"FLS01": 4}
    # The same records from a 2024-layout export: the sites it changes are no longer counted;
    # `other`, unchanged, was last written by the 2023 import.
    _import_national(stored, tmp_path / "2024.csv", _rows(SITES), 2024)
    assert sites_from_lost_labels(stored, *YEAR) == {"FLS01": 1}
    assert sites_from_lost_labels(stored, dt.date(2024, 1, 1), dt.date(2024, 12, 31)) == {}
    # flsdb's own format that changes the last one's site takes it out too.
    own = validate(
        open_upload(write_records(tmp_path / "own.csv", _rows(["wrist"] * 3 + ["hip"]))),
        "records",
        known_services={"FLS01"},
    )
    store_records(stored, own, "test")
    assert sites_from_lost_labels(stored, *YEAR) == {}


def test_a_failed_import_notes_nothing(stored: Engine, tmp_path: Path) -> None:
    rows = _rows(SITES)
    rows[1]["date_of_birth"] = "2000-01-01"  # aged 23: not in the audit
    with pytest.raises(ValidationFailed):
        _import_national(stored, tmp_path / "bad.csv", rows, 2023)
    with stored.connect() as conn:
        assert (
            conn.execute(select(audit_log.c.action).where(audit_log.c.action == "label_lost")).all()
            == []
        )
    assert sites_from_lost_labels(stored, *YEAR) == {}
