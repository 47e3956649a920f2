"""The access log: logins and failures, reads of patient data, changes, uploads and exports.

An event names the user, the action, the FLS and the record id; its detail is written by flsdb
and holds ids, counts, sizes and codes flsdb has checked (a period's label, a list's name), never
text copied from a request: not an uploaded file's name (it may name a patient: it stays with the
upload), not a search's NHS number. So no NHS number, date of birth or postcode reaches it. A
failed sign-in with an unknown name is recorded as "(unknown name)" and a keyed hash of the name.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from flsdb.storage.tables import events


def record_event(
    target: Engine | Connection,
    user: str,
    action: str,
    *,
    service_code: str | None = None,
    record_id: int | None = None,
    detail: str | None = None,
) -> None:
    """Write one event (inside `target`'s transaction when it is a connection)."""
    row = {
        "at": dt.datetime.now(),
        "user_name": user[:64],
        "action": action,
        "service_code": service_code,
        "record_id": record_id,
        "detail": detail,
    }
    if isinstance(target, Connection):
        target.execute(events.insert().values(**row))
        return
    with target.begin() as conn:
        conn.execute(events.insert().values(**row))


def list_events(
    engine: Engine, *, action: str | None = None, limit: int = 100, offset: int = 0
) -> tuple[list[dict[str, Any]], int]:
    """The newest events first, and how many there are in all."""
    query = select(events)
    count = select(func.count()).select_from(events)
    if action:
        query = query.where(events.c.action == action)
        count = count.where(events.c.action == action)
    query = query.order_by(events.c.id.desc()).limit(limit).offset(offset)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(query)]
        total = int(conn.execute(count).scalar_one())
    for row in rows:
        row["at"] = row["at"].isoformat(timespec="seconds")
    return rows, total
