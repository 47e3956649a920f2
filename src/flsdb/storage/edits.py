"""Changes to one record at a time (the form and the API), each audited with its record id.

Every change is checked against the version the caller saw: a save based on an older version is
a `Conflict` and changes nothing. The transaction holds the same locks as an import of the
record's FLS, so an import and an edit never interleave.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Collection, Mapping
from functools import cache
from typing import Any

from sqlalchemy import Connection, Date, Engine, and_, bindparam, func, select

from flsdb.dictionary import load_dictionary
from flsdb.errors import Conflict, NotFound
from flsdb.storage.audit import key_text, rows_of_service, rows_of_services, write_event
from flsdb.storage.figures import for_connection
from flsdb.storage.locks import active_locks, check_record
from flsdb.storage.offsets import day_offsets
from flsdb.storage.tables import RECORD_COLUMNS, audit_log, records
from flsdb.storage.transactions import write_transaction
from flsdb.storage.write_locks import record_locks
from flsdb.storage.writer import default_user


def _day(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


@cache
def _key_statement() -> Any:
    """A record's id by its key (built once: every save asks)."""
    key = load_dictionary().record_key
    return select(records.c.id).where(and_(*[records.c[k] == bindparam(f"k_{k}") for k in key]))


def _key_owner(conn: Connection, values: Mapping[str, Any]) -> int | None:
    key = load_dictionary().record_key
    found = conn.execute(_key_statement(), {f"k_{k}": _typed(k, values[k]) for k in key}).first()
    return int(found.id) if found else None


def _typed(column: str, value: Any) -> Any:
    """A key's value as its column holds it: a date column compares with a date (PostgreSQL
    has no date = text), as a key read from a file gives the ISO text."""
    if isinstance(value, str) and isinstance(records.c[column].type, Date):
        return dt.date.fromisoformat(value)
    return value


def _audit(
    conn: Connection,
    action: str,
    record_id: int,
    key_values: Mapping[str, Any],
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    user: str,
    at: dt.datetime,
) -> None:
    key = load_dictionary().record_key
    write_event(conn, action, record_id, key_values, key, before, after, user, at)


class DuplicateRecord(Conflict):
    """A new record whose key (FLS, NHS number, fracture date) is a stored record's: the
    message names that record, and `record_id` lets a page link to it."""

    def __init__(self, record_id: int) -> None:
        super().__init__(
            f"A record of this patient with this fracture date exists already in this FLS "
            f"(record {record_id}); open it to change it."
        )
        self.record_id = record_id


def insert_record(engine: Engine, values: Mapping[str, Any], user: str | None = None) -> int:
    """Insert a validated record; Conflict if its key (FLS, NHS number, fracture date) exists."""
    user = user or default_user()
    row = {c: values.get(c) for c in RECORD_COLUMNS}
    at = dt.datetime.now()
    with write_transaction(engine, record_locks([str(row["service_code"])])) as conn:
        check_record(conn, str(row["service_code"]), _day(row["date_fracture_diagnosed"]))
        owner = _key_owner(conn, row)
        if owner is not None:
            raise DuplicateRecord(owner)
        record_id = int(
            conn.execute(
                records.insert()
                .values(**row, **day_offsets(row), created_at=at, updated_at=at, version=1)
                .returning(records.c.id)
            ).scalar_one()
        )
        for_connection(conn).after_record(record_id)
        _audit(conn, "insert", record_id, row, None, row, user, at)
    return record_id


# Statements every save runs, built once (SQLAlchemy neither builds them nor works out their
# cache key again).
_CURRENT = (
    select(records)
    .where(records.c.id == bindparam("record_id"))
    .where(records.c.service_code.in_(bindparam("allowed", expanding=True)))
)
_SERVICE_OF = select(records.c.service_code).where(records.c.id == bindparam("record_id"))


def record_in(conn: Connection, record_id: int, allowed: Collection[str]) -> Any:
    """The record by id if its FLS is one of `allowed`; NotFound otherwise (whether a record
    exists is not revealed outside its FLS)."""
    found = conn.execute(_CURRENT, {"record_id": record_id, "allowed": sorted(allowed)}).first()
    if found is None:
        raise NotFound(f"There is no record {record_id} that you can see.")
    return found


def _service_of(engine: Engine, record_id: int) -> str | None:
    with engine.connect() as conn:
        found = conn.execute(_SERVICE_OF, {"record_id": record_id}).scalar_one_or_none()
        return None if found is None else str(found)


def update_record(
    engine: Engine,
    record_id: int,
    version: int,
    values: Mapping[str, Any],
    allowed: Collection[str],
    user: str | None = None,
    action: str = "update",
    also: Callable[[Connection], None] | None = None,
) -> int:
    """Replace a record's values if it is still at `version`; the new version (audited as
    `action`: an update, or the restore of an earlier version). `also` writes more in the
    same transaction once the change is accepted (its access event: one turn at the write
    lock, and the event committed with the change)."""
    user = user or default_user()
    new = {c: values.get(c) for c in RECORD_COLUMNS}
    old_service = _service_of(engine, record_id) or str(new["service_code"])
    locks = record_locks([old_service, str(new["service_code"])])
    at = dt.datetime.now()
    with write_transaction(engine, locks) as conn:
        current = record_in(conn, record_id, allowed)
        # A signed-off record still takes its follow-up (the lock says which changes it allows).
        changed = changed_fields({c: current._mapping[c] for c in RECORD_COLUMNS}, new)
        held = active_locks(conn)
        check_record(
            conn, current.service_code, _day(current.date_fracture_diagnosed), changed, held
        )
        check_record(
            conn, str(new["service_code"]), _day(new["date_fracture_diagnosed"]), changed, held
        )
        if int(current.version) != int(version):
            editor = _last_editor(conn, record_id, current.service_code)
            raise Conflict(
                f"This record was changed by {editor} after you opened it (you had version "
                f"{version}, it is now version {current.version}); reload it and make your "
                "change again."
            )
        owner = _key_owner(conn, new)
        if owner is not None and owner != record_id:
            raise Conflict(
                "Another record of this patient has this fracture date in this FLS; change that "
                "record instead."
            )
        before = {c: current._mapping[c] for c in RECORD_COLUMNS}
        if also is not None:
            also(conn)
        if before == new:
            return int(current.version)
        figures = for_connection(conn)
        figures.before_record(record_id)
        done = conn.execute(
            records.update()
            .where(records.c.id == record_id)
            .where(records.c.version == version)
            .values(**new, **day_offsets(new), updated_at=at, version=records.c.version + 1)
        )
        if done.rowcount != 1:
            raise Conflict("This record was changed by someone else; reload it.")
        figures.after_record(record_id)
        _audit(conn, action, record_id, new, before, new, user, at)
    return int(version) + 1


def _plain(value: Any) -> Any:
    """A stored or typed value in one form, to tell whether a field changed."""
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list | tuple):
        return tuple(sorted(str(v) for v in value))
    if isinstance(value, str) and value[:1] == "[":
        try:
            found = json.loads(value)
        except ValueError:
            return value
        return tuple(sorted(str(v) for v in found)) if isinstance(found, list) else value
    return value if isinstance(value, int | float) else str(value)


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> set[str]:
    """The fields whose values differ between two versions of a record."""
    return {c for c in RECORD_COLUMNS if _plain(before.get(c)) != _plain(after.get(c))}


def _last_editor(conn: Connection, record_id: int, service: str) -> str:
    """Who changed the record last (in its FLS: a reused id's earlier rows name no one)."""
    found = conn.execute(
        select(audit_log.c.user_name)
        .where(audit_log.c.record_id == record_id)
        .where(rows_of_service(service))
        .order_by(audit_log.c.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    return str(found) if found else "an import"


def delete_record_by_id(
    engine: Engine,
    record_id: int,
    allowed: Collection[str],
    version: int | None = None,
    user: str | None = None,
) -> None:
    user = user or default_user()
    service = _service_of(engine, record_id)
    if service is None or service not in allowed:
        raise NotFound(f"There is no record {record_id} that you can see.")
    at = dt.datetime.now()
    with write_transaction(engine, record_locks([service])) as conn:
        current = record_in(conn, record_id, allowed)
        check_record(conn, current.service_code, current.date_fracture_diagnosed)
        if version is not None and int(current.version) != int(version):
            raise Conflict("This record was changed after you opened it; reload it first.")
        before = {c: current._mapping[c] for c in RECORD_COLUMNS}
        for_connection(conn).before_record(record_id)
        conn.execute(records.delete().where(records.c.id == record_id))
        _audit(conn, "delete", record_id, before, before, None, user, at)


def delete_record(engine: Engine, key_values: Mapping[str, Any], user: str | None = None) -> bool:
    """Delete one record by its key (FLS, NHS number, fracture date) as `delete_record_by_id`
    deletes it: the same lock checks, and its values kept in the audit log. False when no
    record has the key."""
    with engine.connect() as conn:
        record_id = _key_owner(conn, key_values)
    if record_id is None:
        return False
    try:
        delete_record_by_id(engine, record_id, [str(key_values["service_code"])], user=user)
    except NotFound:  # deleted meanwhile by someone else
        return False
    return True


def record_history(
    engine: Engine, record_id: int, key_values: Mapping[str, Any], allowed: Collection[str]
) -> list[Any]:
    """Every audited change of the record, by its id and by its key (imports), from its
    creation on and in the FLSs of `allowed` alone. A store made before ids were never reused
    (migration 0009) may have given a deleted record's id, of this FLS or another, to this one:
    that record's rows precede this one's insert (or its own deletion) and are never shown."""
    key = key_text(key_values, load_dictionary().record_key)
    mine = and_(
        audit_log.c.table_name == "records",
        (audit_log.c.record_id == record_id) | (audit_log.c.row_key == key),
    )
    in_scope = rows_of_services(sorted(allowed))
    with engine.connect() as conn:
        created = conn.execute(
            select(func.max(audit_log.c.id)).where(mine, audit_log.c.action == "insert")
        ).scalar()
        ended = conn.execute(
            select(func.max(audit_log.c.id)).where(
                audit_log.c.table_name == "records",
                audit_log.c.record_id == record_id,
                audit_log.c.action == "delete",
            )
        ).scalar()
        start = max(int(created or 0), int(ended or 0) + 1)
        return list(
            conn.execute(
                select(audit_log)
                .where(mine, in_scope, audit_log.c.id >= start)
                .order_by(audit_log.c.id)
            )
        )
