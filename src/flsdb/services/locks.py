"""Sign-off and locking of periods, as DHIS2's data approval does it.

An FLS signs off a quarter when its data are complete: its records diagnosed in that quarter can
no longer change. The national team (an analyst or administrator) locks a year for the annual
report: no record diagnosed in it can change, in any FLS. Only an administrator lifts a sign-off
or a lock; every step is in the access log, and the lock's row keeps who lifted it and when.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine, func, select, update

from flsdb.errors import ConfigurationError, Conflict, Forbidden, NotFound
from flsdb.services.access import Actor, Role, authorize
from flsdb.services.events import record_event
from flsdb.services.records import status_clause
from flsdb.storage.tables import period_locks, records


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


def _create(
    engine: Engine, actor: Actor, kind: str, service: str | None, period_text: str, note: str | None
) -> dict[str, Any]:
    from flsdb.kpi import parse_period

    period = parse_period(period_text)
    if kind == "sign_off" and period.grain != "quarter":
        raise ConfigurationError(f"An FLS signs off a quarter (2024-Q1), not '{period_text}'.")
    if kind == "lock" and period.grain != "year":
        raise ConfigurationError(f"The national team locks a year (2024), not '{period_text}'.")
    with engine.begin() as conn:
        same = conn.execute(
            select(period_locks.c.id)
            .where(period_locks.c.kind == kind, period_locks.c.period == period.label)
            .where(period_locks.c.lifted_at.is_(None))
            .where(
                period_locks.c.service_code.is_(None)
                if service is None
                else period_locks.c.service_code == service
            )
        ).first()
        if same is not None:
            raise Conflict(
                f"{period.label} is already {'locked' if kind == 'lock' else 'signed off'}."
            )
        incomplete = None
        if service is not None:
            incomplete = int(
                conn.execute(
                    select(func.count())
                    .select_from(records)
                    .where(
                        records.c.service_code == service,
                        records.c.date_fracture_diagnosed.between(period.start, period.end),
                        status_clause("missing", dt.date.today()),
                    )
                ).scalar_one()
            )
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
            detail=period.label
            + (f"; {incomplete} records missing key fields" if incomplete else ""),
        )
        row = conn.execute(select(period_locks).where(period_locks.c.id == new_id)).one()
    result = _row(row)
    result["records_missing_key_fields"] = incomplete
    return result


def sign_off(
    engine: Engine, actor: Actor, service: str, quarter: str, note: str | None = None
) -> dict[str, Any]:
    """An FLS signs off one of its quarters."""
    authorize(actor, "write_patients", service)
    return _create(engine, actor, "sign_off", service, quarter, note)


def lock_year(engine: Engine, actor: Actor, year: str, note: str | None = None) -> dict[str, Any]:
    """The national team locks a year for the annual report."""
    if actor.role not in (Role.NATIONAL_ANALYST, Role.ADMIN):
        raise Forbidden("Only the national team (an analyst or administrator) locks a year.")
    return _create(engine, actor, "lock", None, year, note)


def lift(engine: Engine, actor: Actor, lock_id: int) -> dict[str, Any]:
    """An administrator lifts a lock or sign-off (kept, with who lifted it and when)."""
    authorize(actor, "administer")
    with engine.begin() as conn:
        row = conn.execute(select(period_locks).where(period_locks.c.id == lock_id)).first()
        if row is None:
            raise NotFound(f"There is no lock {lock_id}.")
        if row.lifted_at is not None:
            raise Conflict("This lock was lifted already.")
        conn.execute(
            update(period_locks)
            .where(period_locks.c.id == lock_id)
            .values(lifted_at=dt.datetime.now(), lifted_by=actor.username)
        )
        record_event(
            conn,
            actor.username,
            "period_unlocked",
            service_code=row.service_code,
            detail=f"{row.kind} of {row.period} by {row.user_name}",
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
    from flsdb.storage.locks import active_locks

    with engine.connect() as conn:
        for lock in active_locks(conn):
            if lock.covers(service_code, fracture):
                return f"This record cannot change: {lock.reason()}."
    return None
