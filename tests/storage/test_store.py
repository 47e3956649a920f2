"""The store on SQLite and a real PostgreSQL server: upserts, audit, atomicity, migrations."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, func, select

from flsdb.errors import StorageError, ValidationFailed
from flsdb.ingest import validate_file
from flsdb.storage import bulk as bulk_module
from flsdb.storage import delete_record, known_service_codes, store_records, store_services
from flsdb.storage.database import HEAD_REVISION, current_revision, head_revision, open_existing
from flsdb.storage.tables import (
    audit_log,
    import_log,
    is_schema_object,
    metadata,
    records,
    services,
)
from tests.factory import nhs_number, record, write_records, write_services

TODAY = dt.date(2026, 1, 31)


def load_services(engine: Engine, tmp_path: Path) -> None:
    table = validate_file(write_services(tmp_path / "services.csv"), "services")
    store_services(engine, table, "tester")


def import_rows(engine: Engine, tmp_path: Path, rows: list[dict[str, str]], name: str = "r.csv"):
    table = validate_file(
        write_records(tmp_path / name, rows),
        "records",
        known_services=known_service_codes(engine),
        upload_date=TODAY,
    )
    return store_records(engine, table, "tester")


def count(engine: Engine, table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


ROWS = [record(nhs_number=nhs_number(i), sex="female" if i % 2 else "male") for i in range(5)]


def test_migrated_schema_matches_models(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": is_schema_object})
        diff = compare_metadata(context, metadata)
    assert diff == []


def test_the_cheap_revision_check_knows_alembics_head(engine: Engine) -> None:
    assert HEAD_REVISION == head_revision() == current_revision(engine)


def test_reading_needs_an_existing_flsdb_database(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    with pytest.raises(StorageError, match="No database at"):
        open_existing(str(missing))
    assert not missing.exists()
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not an SQLite file" * 100)
    with pytest.raises(StorageError, match="not an SQLite database file"):
        open_existing(str(junk))
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    empty.write_bytes(b"")
    with pytest.raises(StorageError, match="not an flsdb database"):
        open_existing(str(empty))


def test_import_and_reimport_is_idempotent(engine: Engine, tmp_path: Path) -> None:
    load_services(engine, tmp_path)
    first = import_rows(engine, tmp_path, ROWS)
    assert (first.inserted, first.updated, first.unchanged) == (5, 0, 0)
    again = import_rows(engine, tmp_path, ROWS)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 5)
    assert count(engine, records) == 5
    assert count(engine, audit_log) == 3 + 5  # 3 services and 5 records inserted
    with engine.connect() as conn:
        log = conn.execute(select(import_log).order_by(import_log.c.id)).mappings().all()
    assert [(r["kind"], r["rows"], r["inserted"], r["unchanged"]) for r in log] == [
        ("services", 3, 3, 0),
        ("records", 5, 5, 0),
        ("records", 5, 0, 5),
    ]
    assert log[1]["file_sha256"] == log[2]["file_sha256"]
    assert log[1]["user_name"] == "tester"


def test_reupload_updates_by_key_and_audits_before_and_after(
    engine: Engine, tmp_path: Path
) -> None:
    load_services(engine, tmp_path)
    import_rows(engine, tmp_path, ROWS)
    changed = [dict(r) for r in ROWS]
    changed[0]["falls_assessment"] = "assessed"
    changed.append(record(nhs_number=nhs_number(9)))
    summary = import_rows(engine, tmp_path, changed, "second.csv")
    assert (summary.inserted, summary.updated, summary.unchanged) == (1, 1, 4)
    assert count(engine, records) == 6
    with engine.connect() as conn:
        update = (
            conn.execute(select(audit_log).where(audit_log.c.action == "update")).mappings().one()
        )
        value = conn.execute(
            select(records.c.falls_assessment).where(records.c.nhs_number == ROWS[0]["nhs_number"])
        ).scalar_one()
    assert value == "assessed"
    assert update["row_key"] == f"FLS01|{ROWS[0]['nhs_number']}|2024-03-01"
    assert json.loads(update["before"])["falls_assessment"] is None
    assert json.loads(update["after"])["falls_assessment"] == "assessed"
    assert update["import_id"] == summary.import_id


def test_failed_validation_stores_nothing(engine: Engine, tmp_path: Path) -> None:
    load_services(engine, tmp_path)
    import_rows(engine, tmp_path, ROWS)
    bad = [*ROWS[:2], record(nhs_number=nhs_number(7), sex="unknown")]
    table = validate_file(
        write_records(tmp_path / "bad.csv", bad),
        "records",
        known_services=known_service_codes(engine),
        upload_date=TODAY,
    )
    with pytest.raises(ValidationFailed):
        store_records(engine, table)
    assert count(engine, records) == 5
    assert count(engine, import_log) == 2


def test_failure_while_writing_rolls_everything_back(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_services(engine, tmp_path)
    session_class = (
        bulk_module.SqliteSession
        if engine.dialect.name == "sqlite"
        else bulk_module.PostgresSession
    )
    real_insert = session_class.insert

    def failing_insert(self, table: str, frame):  # type: ignore[no-untyped-def]
        if table == "audit_log":
            raise RuntimeError("disk full")
        return real_insert(self, table, frame)

    monkeypatch.setattr(session_class, "insert", failing_insert)
    with pytest.raises(RuntimeError, match="disk full"):
        import_rows(engine, tmp_path, ROWS)
    monkeypatch.undo()
    assert count(engine, records) == 0
    assert count(engine, import_log) == 1  # only the services upload


def test_delete_keeps_values_in_audit(engine: Engine, tmp_path: Path) -> None:
    load_services(engine, tmp_path)
    import_rows(engine, tmp_path, ROWS)
    key = {
        "service_code": "FLS01",
        "nhs_number": ROWS[1]["nhs_number"],
        "date_fracture_diagnosed": dt.date(2024, 3, 1),
    }
    assert delete_record(engine, key, "tester") is True
    assert delete_record(engine, key, "tester") is False
    assert count(engine, records) == 4
    with engine.connect() as conn:
        row = conn.execute(select(audit_log).where(audit_log.c.action == "delete")).mappings().one()
    assert json.loads(row["before"])["nhs_number"] == ROWS[1]["nhs_number"]
    assert row["after"] is None


def test_services_update_by_code(engine: Engine, tmp_path: Path) -> None:
    load_services(engine, tmp_path)
    from tests.factory import SERVICES

    renamed = [dict(SERVICES[0], service_name="North FLS (renamed)"), *SERVICES[1:]]
    table = validate_file(write_services(tmp_path / "s2.csv", renamed), "services")
    summary = store_services(engine, table)
    assert (summary.inserted, summary.updated, summary.unchanged) == (0, 1, 2)
    with engine.connect() as conn:
        name = conn.execute(
            select(services.c.service_name).where(services.c.service_code == "FLS01")
        ).scalar_one()
    assert name == "North FLS (renamed)"
