"""Follow-up worklists for an FLS: the patients to contact this fortnight, those overdue while the
follow-up window is still open, and records missing key fields.

A follow-up is due 16 weeks (112 days) or 52 weeks (392 days) after the fracture, as KPIs 9 to 11
count it; its window stays open until 20 and 64 weeks (the dictionary's follow-up windows). A
follow-up is recorded when followup_16w (or followup_52w) is `yes`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Engine, and_, func, or_, select

from flsdb.errors import ConfigurationError
from flsdb.services.access import Actor, authorize, patient_filter
from flsdb.services.events import record_event
from flsdb.services.records import as_json, page, status_clause
from flsdb.storage.tables import records

ListName = Literal["due_16w", "overdue_16w", "due_52w", "overdue_52w", "missing_fields"]
AHEAD_DAYS = 14
EARLIEST = dt.date(1900, 1, 1)  # a worklist "as of" date before it is a typing slip


@dataclass(frozen=True)
class Window:
    followup: str  # the column that records the follow-up
    due: int  # days after the fracture
    closes: int  # days after the fracture when the window closes


WINDOWS = {
    "16w": Window("followup_16w", 112, 140),
    "52w": Window("followup_52w", 392, 448),
}
TITLES = {
    "due_16w": "16-week follow-up due in the next 14 days",
    "overdue_16w": "16-week follow-up overdue (window open until 20 weeks)",
    "due_52w": "52-week follow-up due in the next 14 days",
    "overdue_52w": "52-week follow-up overdue (window open until 64 weeks)",
    "missing_fields": "Records missing key fields",
}


def _fracture_between(first: dt.date, last: dt.date) -> Any:
    column = records.c.date_fracture_diagnosed
    return and_(column >= first, column <= last)


def _clause(name: ListName, today: dt.date) -> tuple[Any, Window | None]:
    if name == "missing_fields":
        return status_clause("missing", today), None
    window = WINDOWS[name[-3:]]
    not_recorded = or_(records.c[window.followup].is_(None), records.c[window.followup] != "yes")
    if name.startswith("due"):
        span = _fracture_between(
            today - dt.timedelta(days=window.due),
            today - dt.timedelta(days=window.due - AHEAD_DAYS),
        )
    else:
        span = _fracture_between(
            today - dt.timedelta(days=window.closes),
            today - dt.timedelta(days=window.due + 1),
        )
    return and_(span, not_recorded), window


def worklist(
    engine: Engine,
    actor: Actor,
    service_code: str,
    name: ListName,
    today: dt.date | None = None,
    limit: int = 500,
    offset: int = 0,
) -> dict[str, Any]:
    """One list for one FLS: its rows (each record with `due_date` and `days_to_due`)."""
    authorize(actor, "read_patients", service_code)
    today = today or dt.date.today()
    if not EARLIEST <= today <= dt.date.today() + dt.timedelta(days=366):
        raise ConfigurationError(
            f"A worklist's date must be from {EARLIEST:%-d %b %Y} to a year from today; "
            f"{today:%-d %b %Y} is outside that."
        )
    clause, window = _clause(name, today)
    where = [patient_filter(actor, records.c.service_code, service_code), clause]
    rows, total = page(
        engine, where, (records.c.date_fracture_diagnosed, records.c.id), limit, offset
    )
    out = []
    for row in rows:
        item = as_json(row._mapping)
        if window is not None:
            due = row.date_fracture_diagnosed + dt.timedelta(days=window.due)
            item["due_date"] = due.isoformat()
            item["days_to_due"] = (due - today).days
        out.append(item)
    record_event(
        engine,
        actor.username,
        "read_worklist",
        service_code=service_code,
        detail=f"{name} as of {today.isoformat()}: {total} records",
    )
    return {
        "service": service_code,
        "list": name,
        "title": TITLES[name],
        "as_of": today.isoformat(),
        "total": total,
        "rows": out,
    }


def counts(engine: Engine, actor: Actor, service_code: str, today: dt.date) -> dict[str, int]:
    """How many records each list holds (for the tabs)."""
    authorize(actor, "read_patients", service_code)
    found = {}
    with engine.connect() as conn:
        for name in TITLES:
            clause, _ = _clause(name, today)  # type: ignore[arg-type]
            found[name] = int(
                conn.execute(
                    select(func.count())
                    .select_from(records)
                    .where(records.c.service_code == service_code, clause)
                ).scalar_one()
            )
    return found
