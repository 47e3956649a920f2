"""Sign-off and locking of periods, as DHIS2's data approval does it, made so that it cannot
stop the work by mistake.

An FLS's staff sign off one of its quarters once the quarter has ended: the index episode of its
records diagnosed then can no longer change, but their follow-up (16 and 52 weeks) can still be
recorded until its window closes (`flsdb.storage.locks`). The national team (an analyst or
administrator) locks a year, once it has ended, for the annual report: no record diagnosed in it
can change, in any FLS. Both first show what they will close (`preview`: the records, and those
still missing key fields) and are made only when confirmed. Only an administrator lifts a
sign-off or lock, giving a reason; every step is in the access log, and the lock's row keeps who
lifted it, when and why.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, Engine, func, select, update

from flsdb.errors import ConfigurationError, Conflict, NotFound
from flsdb.kpi import parse_period
from flsdb.services.events import record_event
from flsdb.services.policy import Actor, check
from flsdb.services.records import status_clause
from flsdb.storage.locks import active_locks, followup_fields, followup_window_days
from flsdb.storage.tables import period_locks, records

MAX_REASON = 500


def _row(lock: Any) -> dict[str, Any]:
    return {
        "id": lock.id,
        "kind": lock.kind,
        "service": lock.service_code,
        "period": lock.period,
        "start": str(lock.start_date)[:10],
        "end": str(lock.end_date)[:10],
        "by": lock.user_name,
        "at": lock.locked_at.isoformat(timespec="seconds"),
        "note": lock.note,
        "lifted_at": lock.lifted_at.isoformat(timespec="seconds") if lock.lifted_at else None,
        "lifted_by": lock.lifted_by,
        "lift_reason": lock.lift_reason,
    }


def list_locks(engine: Engine, actor: Actor, include_lifted: bool = True) -> list[dict[str, Any]]:
    """National locks, and the sign-offs of the FLSs the actor can see."""
    query = select(period_locks).order_by(period_locks.c.locked_at.desc())
    if not include_lifted:
        query = query.where(period_locks.c.lifted_at.is_(None))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        _row(r)
        for r in rows
        if r.service_code is None or actor.visible is None or r.service_code in actor.visible
    ]


def _day(value: dt.date) -> str:
    return f"{value.day} {value:%b %Y}"


def _period(kind: str, period_text: str, today: dt.date) -> Any:
    """The period to close: a quarter (sign-off) or a year (lock) that has ended."""
    period = parse_period(period_text)
    if kind == "sign_off" and period.grain != "quarter":
        raise ConfigurationError(f"An FLS signs off a quarter (2024-Q1), not '{period_text}'.")
    if kind == "lock" and period.grain != "year":
        raise ConfigurationError(f"The national team locks a year (2024), not '{period_text}'.")
    if period.end >= today:
        what = "signed off" if kind == "sign_off" else "locked"
        raise ConfigurationError(
            f"{period.label} has not ended (its last day is {_day(period.end)}): it can be "
            f"{what} from {_day(period.end + dt.timedelta(days=1))}."
        )
    return period


def _authorized(actor: Actor, kind: str, service: str | None) -> None:
    if kind == "sign_off":
        check(actor, "sign_off", service)
    else:
        check(actor, "lock_year")


def _same(kind: str, service: str | None, label: str) -> Any:
    return (
        select(period_locks.c.id)
        .where(period_locks.c.kind == kind, period_locks.c.period == label)
        .where(period_locks.c.lifted_at.is_(None))
        .where(
            period_locks.c.service_code.is_(None)
            if service is None
            else period_locks.c.service_code == service
        )
    )


def _counts(conn: Any, service: str | None, period: Any, today: dt.date) -> dict[str, Any]:
    """What closing the period closes: its records, those missing key fields, and (for a
    sign-off) those whose follow-up can still be recorded, with the last day it can."""
    inside: list[Any] = [records.c.date_fracture_diagnosed.between(period.start, period.end)]
    if service is not None:
        inside.append(records.c.service_code == service)

    def count(*where: Any) -> int:
        query = select(func.count()).select_from(records).where(*inside, *where)
        return int(conn.execute(query).scalar_one())

    window = dt.timedelta(days=followup_window_days())
    still_open = today - window  # fractures from this day on have their follow-up open
    found: dict[str, Any] = {
        "records": count(),
        "records_missing_key_fields": count(status_clause("missing", today)),
        "records_followup_open": 0,
        "followup_open_until": None,
    }
    if service is not None and period.end >= still_open:
        found["records_followup_open"] = count(records.c.date_fracture_diagnosed >= still_open)
        found["followup_open_until"] = (period.end + window).isoformat()
    return found


def _closable(
    conn: Connection, actor: Actor, kind: str, service: str | None, period_text: str
) -> tuple[Any, dict[str, Any]]:
    """The period a sign-off or lock would close, once the actor may close it, it has ended
    and it is not closed already; with what it holds (records, those missing key fields)."""
    _authorized(actor, kind, service)
    today = dt.date.today()
    period = _period(kind, period_text, today)
    if conn.execute(_same(kind, service, period.label)).first() is not None:
        raise Conflict(f"{period.label} is already {'locked' if kind == 'lock' else 'signed off'}.")
    return period, _counts(conn, service, period, today)


def preview(engine: Engine, actor: Actor, service: str | None, period_text: str) -> dict[str, Any]:
    """What signing off (with `service`) or locking (without) the period would close; nothing
    is changed. Refused as the lock itself would be."""
    kind = "sign_off" if service else "lock"
    with engine.connect() as conn:
        period, found = _closable(conn, actor, kind, service, period_text)
    return {
        "preview": True,
        "kind": kind,
        "service": service,
        "period": period.label,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        **found,
        "summary": summary(kind, service, period.label, found),
    }


def summary(kind: str, service: str | None, label: str, found: dict[str, Any]) -> str:
    """What will be closed, in words for the confirmation step."""
    n, missing = found["records"], found["records_missing_key_fields"]
    whose = f"FLS {service}'s" if service else "every FLS's"
    text = (
        f"{'Signing off' if kind == 'sign_off' else 'Locking'} {label} closes {whose} "
        f"{n} record{'' if n == 1 else 's'} diagnosed in it"
        + (f", {missing} of them still missing key fields" if missing else "")
        + "."
    )
    if kind == "sign_off":
        text += " Their follow-up at 16 and 52 weeks can still be recorded until its window closes"
        if found["records_followup_open"]:
            until = dt.date.fromisoformat(found["followup_open_until"])
            text += (
                f" ({found['records_followup_open']} of them still open, the last on {_day(until)})"
            )
        text += "."
    else:
        text += " No record diagnosed in it can then change, in any FLS, until it is lifted."
    return text


def _create(
    engine: Engine, actor: Actor, kind: str, service: str | None, period_text: str, note: str | None
) -> dict[str, Any]:
    with engine.begin() as conn:
        period, found = _closable(conn, actor, kind, service, period_text)
        incomplete = found["records_missing_key_fields"]
        new_id = conn.execute(
            period_locks.insert()
            .values(
                kind=kind,
                service_code=service,
                period=period.label,
                start_date=period.start,
                end_date=period.end,
                user_name=actor.username,
                locked_at=dt.datetime.now(),
                note=(note or "")[:500] or None,
            )
            .returning(period_locks.c.id)
        ).scalar_one()
        record_event(
            conn,
            actor.username,
            "period_locked" if kind == "lock" else "period_signed_off",
            service_code=service,
            detail=f"{period.label}: {found['records']} records"
            + (f"; {incomplete} records missing key fields" if incomplete else ""),
        )
        row = conn.execute(select(period_locks).where(period_locks.c.id == new_id)).one()
    result = _row(row)
    result.update(found)
    return result


def sign_off(
    engine: Engine, actor: Actor, service: str, quarter: str, note: str | None = None
) -> dict[str, Any]:
    """An FLS signs off one of its quarters (once it has ended)."""
    return _create(engine, actor, "sign_off", service, quarter, note)


def lock_year(engine: Engine, actor: Actor, year: str, note: str | None = None) -> dict[str, Any]:
    """The national team locks a year (once it has ended) for the annual report."""
    return _create(engine, actor, "lock", None, year, note)


def lift(engine: Engine, actor: Actor, lock_id: int, reason: str | None) -> dict[str, Any]:
    """An administrator lifts a lock or sign-off, saying why (kept on the lock's row, with who
    lifted it and when, and in the access log)."""
    check(actor, "lift_lock")
    text = " ".join((reason or "").split())
    if not any(c.isalnum() for c in text):  # blank, or invisible (a zero-width space)
        raise ConfigurationError(
            "Say why the lock is lifted: a reason is required, and is kept with the lock."
        )
    if len(text) > MAX_REASON:
        raise ConfigurationError(
            f"The reason is {len(text)} characters long; at most {MAX_REASON} are kept."
        )
    with engine.begin() as conn:
        row = conn.execute(select(period_locks).where(period_locks.c.id == lock_id)).first()
        if row is None:
            raise NotFound(f"There is no lock {lock_id}.")
        if row.lifted_at is not None:
            raise Conflict("This lock was lifted already.")
        conn.execute(
            update(period_locks)
            .where(period_locks.c.id == lock_id)
            .values(lifted_at=dt.datetime.now(), lifted_by=actor.username, lift_reason=text)
        )
        record_event(
            conn,
            actor.username,
            "period_unlocked",
            service_code=row.service_code,
            detail=f"{row.kind} of {row.period} by {row.user_name}; reason: {text}",
        )
        return _row(conn.execute(select(period_locks).where(period_locks.c.id == lock_id)).one())


def covering_lock(engine: Engine, start: dt.date, end: dt.date) -> dict[str, Any] | None:
    """The active national lock that covers [start, end] (None when the period is open)."""
    with engine.connect() as conn:
        row = conn.execute(
            select(period_locks)
            .where(period_locks.c.kind == "lock", period_locks.c.lifted_at.is_(None))
            .where(period_locks.c.start_date <= start, period_locks.c.end_date >= end)
        ).first()
    return _row(row) if row is not None else None


def lock_reason(engine: Engine, service_code: str, fracture: dt.date) -> str | None:
    """Why a record cannot change now (its period is signed off or locked), or None."""
    return lock_state(engine, service_code, fracture)[0]


def lock_state(engine: Engine, service_code: str, fracture: dt.date) -> tuple[str | None, bool]:
    """Why a record's index episode cannot change now (None: it can), and whether its
    follow-up fields can still be recorded (every lock covering it allows them)."""
    with engine.connect() as conn:
        covering = [k for k in active_locks(conn) if k.covers(service_code, fracture)]
    if not covering:
        return None, True
    covering.sort(key=lambda k: k.kind != "lock")  # a national lock's reason first
    followup = all(k.allows(fracture, followup_fields()) for k in covering)
    return f"This record cannot change: {covering[0].reason(fracture)}.", followup
