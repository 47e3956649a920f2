"""Day offsets from the fracture, stored with every record on every write path and by the
migration that added them (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from alembic import command
from sqlalchemy import Engine, create_engine, select, text

from flsdb.storage import edits
from flsdb.storage.database import alembic_config, open_engine
from flsdb.storage.offsets import DAY_OFFSETS, day_offsets
from flsdb.storage.tables import records
from tests.factory import nhs_number, record
from tests.storage.test_store import import_rows, load_services

DATES = {
    "date_fracture_diagnosed": "2024-02-27",
    "date_fls_assessment": "2024-03-01",  # across the leap day: 3 days
    "dxa": "performed",
    "date_dxa": "2024-05-27",  # 90 days
    "followup_16w": "yes",
    "date_followup_16w": "2024-06-19",  # 113 days
}


def offsets_of(engine: Engine) -> dict[str, tuple[object, ...]]:
    columns = [records.c[c] for c in DAY_OFFSETS]
    with engine.connect() as conn:
        rows = conn.execute(select(records.c.nhs_number, *columns).order_by(records.c.nhs_number))
        return {str(r[0]): tuple(r[1:]) for r in rows}


def test_bulk_imports_and_single_edits_keep_the_offsets(engine: Engine, tmp_path: Path) -> None:
    load_services(engine, tmp_path)
    first, second = nhs_number(1), nhs_number(2)
    import_rows(engine, tmp_path, [record(nhs_number=first, **DATES), record(nhs_number=second)])
    assert offsets_of(engine) == {first: (3, 90, 113, None), second: (None, None, None, None)}
    # A re-upload changing a date updates its offset, and only that record.
    later = record(nhs_number=first, **{**DATES, "date_dxa": "2024-05-28"})
    summary = import_rows(engine, tmp_path, [later, record(nhs_number=second)], "again.csv")
    assert (summary.updated, summary.unchanged) == (1, 1)
    assert offsets_of(engine)[first] == (3, 91, 113, None)
    # One record at a time (the form and the API): insert, then move its fracture date.
    typed = {
        k: dt.date.fromisoformat(v) if k.startswith("date_") else v
        for k, v in record(nhs_number=nhs_number(3)).items()
        if v != ""
    }
    values = {
        **typed,
        "date_fracture_diagnosed": dt.date(2024, 3, 1),
        "date_fls_assessment": dt.date(2024, 3, 11),
    }
    record_id = edits.insert_record(engine, values, "tester")
    assert offsets_of(engine)[nhs_number(3)] == (10, None, None, None)
    moved = {**values, "date_fracture_diagnosed": dt.date(2024, 3, 5)}
    edits.update_record(engine, record_id, 1, moved, {"FLS01"}, "tester")
    assert offsets_of(engine)[nhs_number(3)] == (6, None, None, None)


def test_day_offsets_of_one_record() -> None:
    assert day_offsets(DATES) == {
        "date_fls_assessment_days": 3,
        "date_dxa_days": 90,
        "date_followup_16w_days": 113,
        "date_followup_52w_days": None,
    }
    assert (
        day_offsets({"date_fracture_diagnosed": None, "date_dxa": "2024-01-01"})["date_dxa_days"]
        is None
    )


def test_migration_0004_gives_stored_records_their_offsets(db_url: str) -> None:
    """A store at revision 0003 holding records is upgraded: every record gets its offsets."""
    config = alembic_config()
    raw = create_engine(db_url)
    with raw.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0003")
    now = dt.datetime(2026, 1, 1)
    with raw.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO services (service_code, service_name, nation, region_code, "
                "region_name, created_at, updated_at) VALUES ('FLS01', 'North', 'england', 'QE1', "
                "'Lancashire', :now, :now)"
            ),
            {"now": now},
        )
        for number, (fracture, dxa, later) in enumerate(
            [
                (dt.date(2023, 12, 31), dt.date(2024, 3, 30), dt.date(2025, 1, 26)),
                (dt.date(2024, 5, 5), None, None),
            ]
        ):
            conn.execute(
                text(
                    "INSERT INTO records (service_code, nhs_number, date_of_birth, sex, "
                    "date_fracture_diagnosed, fracture_site, date_dxa, date_followup_52w, "
                    "created_at, updated_at, version) VALUES ('FLS01', :nhs, :born, 'female', "
                    ":fracture, 'hip', :dxa, :later, :now, :now, 1)"
                ),
                {
                    "nhs": nhs_number(number),
                    "born": dt.date(1950, 1, 1),
                    "fracture": fracture,
                    "dxa": dxa,
                    "later": later,
                    "now": now,
                },
            )
    raw.dispose()
    engine = open_engine(db_url)  # migrates to the head
    assert offsets_of(engine) == {
        nhs_number(0): (None, 90, None, 392),
        nhs_number(1): (None, None, None, None),
    }
    engine.dispose()
