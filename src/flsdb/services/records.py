"""Patient records, one at a time: search, read, create, change, delete, history.

Every query takes its FLSs from `access.patient_codes` (a statement built once, as a parameter);
every read of patient data and every change is
an event in the access log. Validation is the upload's, row of one.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from sqlalchemy import Date, Engine, String, and_, bindparam, func, or_, select

from flsdb.dictionary import load_dictionary
from flsdb.errors import ValidationFailed
from flsdb.ingest.rows import rows_upload
from flsdb.ingest.validate import validate
from flsdb.services.access import Actor, NotFound, authorize, patient_codes
from flsdb.services.events import record_event
from flsdb.services.missing import missing_clause
from flsdb.services.versions import number_versions
from flsdb.storage.edits import (
    delete_record,
    delete_record_by_id,
    insert_record,
    record_history,
    record_in,
    update_record,
)
from flsdb.storage.tables import RECORD_COLUMNS, records
from flsdb.storage.writer import known_service_codes

Status = Literal["complete", "missing", "due"]
FOLLOWUP_DAYS = (("followup_16w", 112), ("followup_52w", 392))


@dataclass(frozen=True)
class Search:
    service: str | None = None
    nhs_number: str | None = None
    fracture_from: dt.date | None = None
    fracture_to: dt.date | None = None
    status: Status | None = None
    limit: int = 50
    offset: int = 0
    sort: str = "date_fracture_diagnosed"  # one of SORTABLE
    descending: bool = True


# The columns a record list can be sorted by (then by id, in the same direction).
SORTABLE = ("date_fracture_diagnosed", "nhs_number", "service_code", "date_fls_assessment")


def _missing(column: Any) -> Any:
    if isinstance(column.type, String):
        return or_(column.is_(None), column == "not_known")
    return column.is_(None)


@lru_cache(maxsize=8)
def status_clause(status: Status, today: dt.date) -> Any:
    """The SQL condition of a status on `today` (made once a day per status)."""
    if status == "due":
        return or_(
            *[
                and_(
                    records.c.date_fracture_diagnosed <= today - dt.timedelta(days=days),
                    _missing(records.c[column]),
                )
                for column, days in FOLLOWUP_DAYS
            ]
        )

    # As the worklist of records missing key fields reads it: blank fields that apply.
    missing = missing_clause(today)
    return missing if status == "missing" else ~missing


def as_json(row: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"id": int(row["id"]), "version": int(row["version"])}
    for column in RECORD_COLUMNS:
        value = row[column]
        out[column] = value.isoformat() if isinstance(value, dt.date) else value
    return out


def page(
    engine: Engine, where: list[Any], order: tuple[Any, ...], limit: int, offset: int
) -> tuple[list[Any], int]:
    """One page of the records matching `where` (already scoped), and how many match."""
    with engine.connect() as conn:
        total = int(
            conn.execute(select(func.count()).select_from(records).where(*where)).scalar_one()
        )
        rows = conn.execute(
            select(records).where(*where).order_by(*order).limit(limit).offset(offset)
        ).all()
    return list(rows), total


@lru_cache(maxsize=64)
def _statements(
    nhs: bool,
    start: bool,
    end: bool,
    status: Status | None,
    sort: str,
    descending: bool,
    today: dt.date,
) -> tuple[Any, Any]:
    """A search's count and page statements for one shape of search and day, their values
    parameters: built once (SQLAlchemy neither builds them nor works out their cache key
    again, a few tenths of a millisecond for the status's conditions)."""
    where: list[Any] = [records.c.service_code.in_(bindparam("services", expanding=True))]
    if nhs:
        where.append(records.c.nhs_number == bindparam("nhs"))
    if start:
        where.append(records.c.date_fracture_diagnosed >= bindparam("start", type_=Date()))
    if end:
        where.append(records.c.date_fracture_diagnosed <= bindparam("end", type_=Date()))
    if status:
        where.append(status_clause(status, today))
    column = records.c[sort]
    order = (
        (column.desc().nulls_last(), records.c.id.desc())
        if descending
        else (column.asc().nulls_last(), records.c.id.asc())
    )
    count = select(func.count()).select_from(records).where(*where)
    rows = select(records).where(*where).order_by(*order)
    return count, rows.limit(bindparam("limit")).offset(bindparam("offset"))


def search_statements(
    actor: Actor, query: Search, today: dt.date | None = None
) -> tuple[Any, Any, dict[str, Any]]:
    """A search's count and page statements and their values, scoped to the actor's patients
    (the decision is `patient_codes`': NotFound for an FLS that is not theirs)."""
    codes = patient_codes(actor, query.service)
    sort = query.sort if query.sort in SORTABLE else "date_fracture_diagnosed"
    count, rows = _statements(
        bool(query.nhs_number),
        query.fracture_from is not None,
        query.fracture_to is not None,
        query.status,
        sort,
        query.descending,
        today or dt.date.today(),
    )
    values: dict[str, Any] = {
        "services": codes,
        "limit": max(1, min(int(query.limit), 500)),
        "offset": max(0, int(query.offset)),
    }
    if query.nhs_number:
        values["nhs"] = query.nhs_number.replace(" ", "")
    if query.fracture_from is not None:
        values["start"] = query.fracture_from
    if query.fracture_to is not None:
        values["end"] = query.fracture_to
    return count, rows, values


def search(engine: Engine, actor: Actor, query: Search) -> tuple[list[dict[str, Any]], int]:
    count, statement, values = search_statements(actor, query)
    with engine.connect() as conn:
        total = int(conn.execute(count, values).scalar_one())
        rows = conn.execute(statement, values).all()
    found = [as_json(r._mapping) for r in rows]
    how = "by NHS number" if query.nhs_number else "list"
    record_event(
        engine,
        actor.username,
        "read_records",
        service_code=query.service,
        detail=f"{how}; {len(found)} of {total} shown",
    )
    return found, total


def _row(engine: Engine, actor: Actor, record_id: int) -> Any:
    """The record, if the actor may see it; NotFound otherwise (for every role: whether a
    record exists is not revealed to anyone outside its FLS)."""
    if not actor.patient_services:
        raise NotFound(f"There is no record {record_id} that you can see.")
    codes = patient_codes(actor)
    with engine.connect() as conn:
        return record_in(conn, record_id, codes)._mapping


def get(engine: Engine, actor: Actor, record_id: int) -> dict[str, Any]:
    row = _row(engine, actor, record_id)
    record_event(
        engine, actor.username, "read_record", service_code=row["service_code"], record_id=record_id
    )
    return as_json(row)


def validated(engine: Engine, actor: Actor, values: Mapping[str, Any]) -> dict[str, Any]:
    """The record's typed values, or ValidationFailed with the upload's issues (row 2)."""
    cleaned = {k: v for k, v in values.items() if k not in ("id", "version")}
    code = str(cleaned.get("service_code") or "").strip().upper()
    if code:
        authorize(actor, "write_patients", code)
    table = validate(
        rows_upload([cleaned], "record"),
        "records",
        known_services=known_service_codes(engine),
        allowed_services=set(actor.patient_services),
        blank="clear",  # a form or an API edit gives the whole record
    )
    try:
        if not table.ok:
            raise ValidationFailed(table.issues)
        row = table.frame.row(0, named=True)
    finally:
        table.close()
    return {c: row.get(c) for c in RECORD_COLUMNS}


def create(engine: Engine, actor: Actor, values: Mapping[str, Any]) -> dict[str, Any]:
    authorize(actor, "write_patients")
    typed = validated(engine, actor, values)
    authorize(actor, "write_patients", str(typed["service_code"]))
    record_id = insert_record(engine, typed, actor.username)
    record_event(
        engine,
        actor.username,
        "create_record",
        service_code=typed["service_code"],
        record_id=record_id,
    )
    return as_json(_row(engine, actor, record_id))


def change(
    engine: Engine, actor: Actor, record_id: int, version: int, values: Mapping[str, Any]
) -> dict[str, Any]:
    _row(engine, actor, record_id)  # 404 before any validation message about it
    authorize(actor, "write_patients")
    typed = validated(engine, actor, values)
    update_record(
        engine,
        record_id,
        version,
        typed,
        actor.patient_services,
        actor.username,
        # the access event in the change's own transaction: one turn at the write lock
        also=lambda conn: record_event(
            conn,
            actor.username,
            "update_record",
            service_code=typed["service_code"],
            record_id=record_id,
        ),
    )
    return as_json(_row(engine, actor, record_id))


def remove(engine: Engine, actor: Actor, record_id: int, version: int | None = None) -> None:
    row = _row(engine, actor, record_id)
    authorize(actor, "write_patients")
    delete_record_by_id(engine, record_id, actor.patient_services, version, actor.username)
    record_event(
        engine,
        actor.username,
        "delete_record",
        service_code=row["service_code"],
        record_id=record_id,
    )


def remove_by_key(
    engine: Engine, service: str, nhs_number: str, fracture: dt.date, user: str | None = None
) -> bool:
    """The command line's deletion (`flsdb delete-record`, run by whoever holds the database):
    one record by its key, as typed (an NHS number may have spaces, a code any case), deleted
    as `remove` deletes it; False when no record has that key."""
    key = {
        "service_code": service.strip().upper(),
        "nhs_number": nhs_number.replace(" ", ""),
        "date_fracture_diagnosed": fracture,
    }
    return delete_record(engine, key, user)


def history(engine: Engine, actor: Actor, record_id: int) -> list[dict[str, Any]]:
    """Every change of the record, oldest first: when, who, what, values before and after."""
    row = _row(engine, actor, record_id)
    changes = []
    for change_row in record_history(engine, record_id, row, actor.patient_services):
        changes.append(
            {
                "at": change_row.changed_at.isoformat(timespec="seconds"),
                "user": change_row.user_name,
                "action": change_row.action,
                "import_id": change_row.import_id,
                "before": json.loads(change_row.before) if change_row.before else None,
                "after": json.loads(change_row.after) if change_row.after else None,
            }
        )
    number_versions(changes, int(row["version"]))
    record_event(
        engine,
        actor.username,
        "read_history",
        service_code=row["service_code"],
        record_id=record_id,
    )
    return changes


def field_labels() -> dict[str, str]:
    return load_dictionary().labels()
