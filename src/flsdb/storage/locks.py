"""Locked periods: what a write must check before it changes a record.

A record is closed to changes when its fracture date falls in a year the national team locked,
or in a quarter its FLS signed off, until an administrator lifts the lock. A sign-off closes the
index episode only: the follow-up fields (the dictionary's sections 6 and 7, at 16 and 52
weeks) stay open until the 52-week follow-up window closes (the dictionary's latest 52-week
follow-up date, 64 weeks after the fracture), so a change to those fields alone goes through.
Writers check inside their transaction, after taking their locks, so a lock and a write never
cross.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

import polars as pl
from sqlalchemy import Connection, select

from flsdb.dictionary import load_dictionary
from flsdb.errors import Locked
from flsdb.storage.tables import period_locks

FRACTURE = "date_fracture_diagnosed"
FOLLOWUP_SECTIONS = ("6", "7")
DAYS_52W = 392  # the 52-week follow-up falls due (as the KPIs and worklists count it)


@cache
def followup_fields() -> frozenset[str]:
    """The follow-up fields a sign-off leaves open: the dictionary's sections 6 and 7."""
    return frozenset(
        f.name
        for f in load_dictionary().records
        if f.question and f.question.split(".")[0] in FOLLOWUP_SECTIONS
    )


@cache
def followup_window_days() -> int:
    """Days from the fracture until the 52-week follow-up window closes: the dictionary's
    latest date for the 52-week follow-up (64 weeks), or 392 days if it states none."""
    for f in load_dictionary().records:
        if f.name == "date_followup_52w" and f.warn_window_weeks is not None:
            return int(f.warn_window_weeks.max) * 7
    return DAYS_52W


def followup_closes(fracture: dt.date) -> dt.date:
    return fracture + dt.timedelta(days=followup_window_days())


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

    def allows(
        self, fracture: dt.date, changed: Collection[str] | None, today: dt.date | None = None
    ) -> bool:
        """Whether a change of `changed` fields (None: a new or deleted record) to a record it
        covers may go through: only follow-up fields, under a sign-off, in the window."""
        today = today or dt.date.today()
        return (
            self.kind == "sign_off"
            and changed is not None
            and set(changed) <= followup_fields()
            and today <= followup_closes(fracture)
        )

    def reason(self, fracture: dt.date | None = None) -> str:
        what = (
            "locked for the annual report"
            if self.kind == "lock"
            else (f"signed off for FLS {self.service_code}")
        )
        text = (
            f"{self.period} was {what} by {self.user} on {self.at:%d %b %Y at %H:%M}; an "
            "administrator must lift the lock before its records can change"
        )
        if self.kind == "sign_off" and fracture is not None:
            closes = followup_closes(fracture)
            if dt.date.today() <= closes:
                text += (
                    "; its 16- and 52-week follow-up can still be recorded until "
                    f"{closes.day} {closes:%b %Y}"
                )
        return text


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


_ACTIVE = select(period_locks).where(period_locks.c.lifted_at.is_(None))  # built once


def active_locks(conn: Connection) -> list[PeriodLock]:
    rows = conn.execute(_ACTIVE).all()
    return [_from_row(r) for r in rows]


def check_record(
    conn: Connection,
    service_code: str,
    fracture: dt.date,
    changed: Collection[str] | None = None,
    locks: list[PeriodLock] | None = None,
) -> None:
    """Locked if the record (service, fracture date) falls in an active lock, unless the change
    (`changed`: the fields it changes; None for a new or deleted record) is one the lock allows
    (follow-up fields alone, under a sign-off, while their window is open). `locks`: the active
    locks read already in this transaction (read here otherwise)."""
    for lock in active_locks(conn) if locks is None else locks:
        if lock.covers(service_code, fracture) and not lock.allows(fracture, changed):
            raise Locked(f"This record cannot change: {lock.reason(fracture)}.")


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


def check_batch(
    locks: list[PeriodLock],
    frame: pl.DataFrame,
    stored: Callable[[pl.DataFrame], pl.DataFrame] | None = None,
    today: dt.date | None = None,
    keep_blanks: bool = False,
) -> None:
    """Locked, naming the first row, if any row of an upload falls in a locked period. With
    `stored` (the stored rows of some keys, every column), a row that changes only follow-up
    fields of a stored record under a sign-off whose follow-up window is open goes through
    (with `keep_blanks`, a blank cell keeps its stored value, so it changes nothing)."""
    if not locks:
        return
    hit = locked_rows(frame, locks)
    if hit.height and stored is not None:
        hit = hit.filter(~_followup_only(hit, locks, stored, today or dt.date.today(), keep_blanks))
    if hit.height:
        first = hit.row(0, named=True)
        lock = next(k for k in locks if k.id == first["lock_id"])
        row = f"row {first['_row']}" if "_row" in hit.columns else "a row"
        more = hit.height - 1
        rows = f"{row} ({first['service_code']}, fracture {first[FRACTURE]})" + (
            f" and {more} more row{'s' if more > 1 else ''} fall" if more else " falls"
        )
        raise Locked(f"Nothing was stored: {rows} in a closed period. {lock.reason()}.")


KEY = ("service_code", "nhs_number", FRACTURE)


def _followup_only(
    hit: pl.DataFrame,
    locks: list[PeriodLock],
    stored: Callable[[pl.DataFrame], pl.DataFrame],
    today: dt.date,
    keep_blanks: bool = False,
) -> pl.Series:
    """Per row of `hit` (a row and the lock it falls in), whether the lock allows it: a sign-off
    with the follow-up window open, and the row's record stored with the same values in every
    field but the follow-up ones."""
    sign_offs = [k.id for k in locks if k.kind == "sign_off"]
    window = dt.timedelta(days=followup_window_days())
    open_window = pl.col("lock_id").is_in(sign_offs) & (pl.col(FRACTURE) + window >= today)
    compared = [
        c
        for c in frame_fields(hit)
        if c not in followup_fields() and c not in KEY and not c.startswith("_")
    ]
    old = stored(hit.select(KEY).unique())
    if old.height == 0:
        return pl.Series([False] * hit.height)
    old = old.select(*KEY, *[pl.col(c).alias(f"{c}_old") for c in compared]).with_columns(
        _stored=pl.lit(True)
    )
    joined = hit.with_row_index("_at").join(old, on=list(KEY), how="left", nulls_equal=True)
    same = pl.all_horizontal(
        [
            pl.col(c).eq_missing(pl.col(f"{c}_old")) | (pl.col(c).is_null() & keep_blanks)
            for c in compared
        ]
        or [pl.lit(True)]
    )
    allowed = joined.sort("_at").select(
        (open_window & pl.col("_stored").fill_null(False) & same).alias("ok")
    )
    return allowed["ok"]


def frame_fields(frame: pl.DataFrame) -> list[str]:
    """The dictionary's record fields among a frame's columns."""
    names = {f.name for f in load_dictionary().records}
    return [c for c in frame.columns if c in names]
