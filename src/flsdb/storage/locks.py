"""Locked periods: what a write must check before it changes a record.

A record is closed to changes when its fracture date falls in a year the national team locked,
or in a quarter its FLS signed off, until an administrator lifts the lock. Writers check inside
their transaction, after taking their locks, so a lock and a write never cross.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy import Connection, select

from flsdb.errors import Locked
from flsdb.storage.tables import period_locks

FRACTURE = "date_fracture_diagnosed"


@dataclass(frozen=True)
class PeriodLock:
    id: int
    kind: str  # "lock" (national, every FLS) or "sign_off" (one FLS)
    service_code: str | None
    period: str
    start: dt.date
    end: dt.date
    user: str
    at: dt.datetime

    def covers(self, service_code: str, fracture: dt.date) -> bool:
        return (self.service_code in (None, service_code)) and self.start <= fracture <= self.end

    def reason(self) -> str:
        what = (
            "locked for the annual report"
            if self.kind == "lock"
            else (f"signed off for FLS {self.service_code}")
        )
        return (
            f"{self.period} was {what} by {self.user} on {self.at:%d %b %Y at %H:%M}; an "
            "administrator must lift the lock before its records can change"
        )


def _from_row(row: Any) -> PeriodLock:
    def day(value: Any) -> dt.date:
        return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])

    at = row.locked_at
    if not isinstance(at, dt.datetime):
        at = dt.datetime.fromisoformat(str(at))
    return PeriodLock(
        int(row.id),
        row.kind,
        row.service_code,
        row.period,
        day(row.start_date),
        day(row.end_date),
        row.user_name,
        at,
    )


ACTIVE_SQL = (
    "SELECT id, kind, service_code, period, start_date, end_date, user_name, locked_at "
    "FROM period_locks WHERE lifted_at IS NULL"
)


def locks_from_tuples(rows: Iterable[tuple[object, ...]]) -> list[PeriodLock]:
    """Active locks from a bulk session's rows of ACTIVE_SQL."""
    names = (
        "id",
        "kind",
        "service_code",
        "period",
        "start_date",
        "end_date",
        "user_name",
        "locked_at",
    )
    return [_from_row(type("Row", (), dict(zip(names, r, strict=True)))) for r in rows]


def active_locks(conn: Connection) -> list[PeriodLock]:
    rows = conn.execute(select(period_locks).where(period_locks.c.lifted_at.is_(None))).all()
    return [_from_row(r) for r in rows]


def check_record(conn: Connection, service_code: str, fracture: dt.date) -> None:
    """Locked if the record (service, fracture date) falls in an active lock."""
    for lock in active_locks(conn):
        if lock.covers(service_code, fracture):
            raise Locked(f"This record cannot change: {lock.reason()}.")


def locked_rows(frame: pl.DataFrame, locks: Iterable[PeriodLock]) -> pl.DataFrame:
    """The rows of an upload batch (service_code, date_fracture_diagnosed, _row) that fall in
    a lock, with the lock's id."""
    found = []
    for lock in locks:
        inside = pl.col(FRACTURE).is_between(lock.start, lock.end)
        if lock.service_code is not None:
            inside = inside & (pl.col("service_code") == lock.service_code)
        hit = frame.filter(inside)
        if hit.height:
            found.append(hit.with_columns(lock_id=pl.lit(lock.id)))
    return pl.concat(found) if found else frame.head(0).with_columns(lock_id=pl.lit(0))


def check_batch(locks: list[PeriodLock], frame: pl.DataFrame) -> None:
    """Locked, naming the first row, if any row of an upload falls in a locked period."""
    if not locks:
        return
    hit = locked_rows(frame, locks)
    if hit.height:
        first = hit.row(0, named=True)
        lock = next(k for k in locks if k.id == first["lock_id"])
        row = f"row {first['_row']}" if "_row" in hit.columns else "a row"
        more = hit.height - 1
        rows = f"{row} ({first['service_code']}, fracture {first[FRACTURE]})" + (
            f" and {more} more row{'s' if more > 1 else ''} fall" if more else " falls"
        )
        raise Locked(f"Nothing was stored: {rows} in a closed period. {lock.reason()}.")
