"""The access log: logins and failures, reads of patient data, changes, uploads and exports.

An event names the user, the action, the FLS and the record id; its detail is written by flsdb
and holds ids, counts, sizes and codes flsdb has checked (a period's label, a list's name), never
text copied from a request: not an uploaded file's name (it may name a patient: it stays with the
upload), not a search's NHS number. So no NHS number, date of birth or postcode reaches it. A
failed sign-in with an unknown name is recorded as "(unknown name)" and a keyed hash of the name.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from flsdb.services import event_writer
from flsdb.sheets import csv_text
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
    """Write one event: inside `target`'s transaction when it is a connection; otherwise in a
    transaction of its own, or through the web server's queue (`event_writer`)."""
    row = {
        "at": dt.datetime.now(),
        "user_name": user[:64],
        "action": action,
        "service_code": service_code,
        "record_id": record_id,
        "detail": detail,
    }
    if isinstance(target, Connection):
        target.execute(event_writer.INSERT, row)
        return
    queue = event_writer.queue_for(target)
    if queue is not None and queue.put(row):
        return
    with target.begin() as conn:
        conn.execute(event_writer.INSERT, row)


@dataclass(frozen=True)
class EventFilter:
    """Which events a list holds: an action (its code), a user, a record, and the days from
    and to (both included)."""

    action: str | None = None
    user: str | None = None
    record_id: int | None = None
    since: dt.date | None = None
    until: dt.date | None = None

    def where(self) -> list[Any]:
        found: list[Any] = []
        if self.action:
            found.append(events.c.action == self.action)
        if self.user:
            found.append(events.c.user_name == self.user)
        if self.record_id is not None:
            found.append(events.c.record_id == self.record_id)
        if self.since is not None:
            found.append(events.c.at >= dt.datetime.combine(self.since, dt.time()))
        if self.until is not None:
            end = dt.datetime.combine(self.until + dt.timedelta(days=1), dt.time())
            found.append(events.c.at < end)
        return found


def list_events(
    engine: Engine,
    *,
    action: str | None = None,
    limit: int = 100,
    offset: int = 0,
    chosen: EventFilter | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """The newest events first, and how many there are in all."""
    chosen = chosen or EventFilter(action=action)
    if action and not chosen.action:
        chosen = replace(chosen, action=action)
    event_writer.flush_all()
    conditions = chosen.where()
    query = select(events).where(*conditions)
    count = select(func.count()).select_from(events).where(*conditions)
    query = query.order_by(events.c.id.desc()).limit(limit).offset(offset)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(query)]
        total = int(conn.execute(count).scalar_one())
    for row in rows:
        row["at"] = row["at"].isoformat(timespec="seconds")
    return rows, total


def event_choices(engine: Engine) -> tuple[list[str], list[str]]:
    """The actions and the user names the log holds, sorted, for a filter to offer."""
    event_writer.flush_all()
    with engine.connect() as conn:
        actions = conn.execute(select(events.c.action).distinct()).scalars()
        users = conn.execute(select(events.c.user_name).distinct()).scalars()
        return sorted(str(a) for a in actions), sorted(str(u) for u in users)


EXPORT_COLUMNS = ("at", "user_name", "action", "service_code", "record_id", "detail")
EXPORT_LIMIT = 1_000_000


def export_events(engine: Engine, chosen: EventFilter) -> str:
    """The chosen events as CSV (newest first; every text cell made inert for spreadsheets)."""
    event_writer.flush_all()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    query = (
        select(*[events.c[c] for c in EXPORT_COLUMNS])
        .where(*chosen.where())
        .order_by(events.c.id.desc())
        .limit(EXPORT_LIMIT)
    )
    with engine.connect() as conn:
        for row in conn.execute(query):
            writer.writerow(
                [
                    row.at.isoformat(timespec="seconds"),
                    csv_text(row.user_name),
                    row.action,
                    csv_text(row.service_code or ""),
                    "" if row.record_id is None else row.record_id,
                    csv_text(row.detail or ""),
                ]
            )
    return buffer.getvalue()
