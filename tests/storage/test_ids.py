"""Record ids are never given twice, and a record's history never shows another record's rows:
not across FLSs, and not in a store made before ids stopped being reused (migration 0009)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, inspect, select

from flsdb.ingest import validate_file
from flsdb.storage import store_services
from flsdb.storage.database import HEAD_REVISION, upgrade
from flsdb.storage.edits import delete_record_by_id, insert_record, record_history
from flsdb.storage.tables import records
from tests.factory import SERVICES, nhs_number, record, write_services
from tests.storage.revisions import store_at

BOTH = {"FLS01", "FLS02"}


def load_services(engine: Engine, tmp_path: Path) -> None:
    store_services(engine, validate_file(write_services(tmp_path / "s.csv"), "services"), "t")


def load_services_at(engine: Engine) -> None:
    """The test FLSs written into a store at an older revision: only the columns it has."""
    from sqlalchemy import MetaData, Table

    table = Table("services", MetaData(), autoload_with=engine)
    now = dt.datetime(2024, 1, 1)
    rows = [
        {
            **{k: (int(v) if v.isdigit() else v) or None for k, v in row.items()},
            "created_at": now,
            "updated_at": now,
        }
        for row in SERVICES
    ]
    with engine.begin() as conn:
        conn.execute(table.insert(), [{c.name: r[c.name] for c in table.columns} for r in rows])


def typed(service: str, seed: int) -> dict[str, Any]:
    values: dict[str, Any] = {
        k: (v or None)
        for k, v in record(
            service_code=service,
            nhs_number=nhs_number(seed),
            date_fracture_diagnosed="2024-03-01",
            postcode="SW1A 1AA",
        ).items()
    }
    values["date_fracture_diagnosed"] = dt.date(2024, 3, 1)
    values["date_of_birth"] = dt.date(1950, 5, 5)
    return values


def row_of(engine: Engine, record_id: int) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(records).where(records.c.id == record_id)).one()._mapping


def history_numbers(engine: Engine, record_id: int, allowed: set[str]) -> list[tuple[str, str]]:
    """(action, NHS number) of each row of the record's history."""
    found = []
    for row in record_history(engine, record_id, row_of(engine, record_id), allowed):
        values = json.loads(row.after or row.before or "{}")
        found.append((row.action, values.get("nhs_number", "")))
    return found


def test_a_deleted_records_id_never_goes_to_another_fls(engine: Engine, tmp_path: Path) -> None:
    load_services(engine, tmp_path)
    kept = insert_record(engine, typed("FLS01", 1), "a")
    gone = insert_record(engine, typed("FLS01", 2), "a")  # the newest id
    delete_record_by_id(engine, gone, {"FLS01"}, None, "a")
    other = insert_record(engine, typed("FLS02", 3), "b")
    assert other > gone > kept
    # Even for someone who sees both FLSs, the history is the new record's alone.
    assert history_numbers(engine, other, BOTH) == [("insert", nhs_number(3))]
    assert history_numbers(engine, kept, BOTH) == [("insert", nhs_number(1))]


def test_a_store_with_reused_ids_is_mended(db_url: str, tmp_path: Path) -> None:
    """A store at the revision before 0009 in which SQLite gave a deleted FLS01 record's id to an
    FLS02 record: the history of the FLS02 record shows none of the FLS01 rows, and after migration
    0009 (its rows, key and indexes kept) no id in use or in the audit trail is given again."""
    engine = store_at(db_url, "0008")
    load_services_at(engine)
    first = insert_record(engine, typed("FLS01", 1), "a")
    reused = insert_record(engine, typed("FLS01", 2), "a")
    delete_record_by_id(engine, reused, {"FLS01"}, None, "a")
    later = insert_record(engine, typed("FLS02", 3), "b")
    sqlite = engine.dialect.name == "sqlite"
    assert (later == reused) is sqlite  # what SQLite did before 0009; PostgreSQL never did
    for allowed in (BOTH, {"FLS02"}):
        assert history_numbers(engine, later, allowed) == [("insert", nhs_number(3))]
    # An FLS01 user editing the FLS02 record's id can never see it: not in their scope.
    assert history_numbers(engine, first, {"FLS02"}) == []

    assert upgrade(engine) == HEAD_REVISION  # 0009, and the migrations after it
    with engine.connect() as conn:
        ids = sorted(conn.execute(select(records.c.id)).scalars())
    assert ids == sorted({first, later})
    found = inspect(engine)
    assert "ix_records_service_fracture" in {i["name"] for i in found.get_indexes("records")}
    assert "uq_records_key" in {u["name"] for u in found.get_unique_constraints("records")}
    if sqlite:
        with engine.connect() as conn:
            sql = conn.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE name = 'records'"
            ).scalar_one()
        assert "AUTOINCREMENT" in sql
    delete_record_by_id(engine, later, {"FLS02"}, None, "b")
    newest = insert_record(engine, typed("FLS02", 4), "b")
    assert newest > max(later, reused)
    assert history_numbers(engine, newest, BOTH) == [("insert", nhs_number(4))]
    engine.dispose()
