"""Follow-up worklists for an FLS: the patients to contact this fortnight, those overdue while the
follow-up window is still open, and records missing key fields.

A follow-up is due 16 weeks (112 days) or 52 weeks (392 days) after the fracture, as KPIs 9 to 11
count it; its window stays open until 20 and 64 weeks (the dictionary's follow-up windows). A
follow-up leaves the list when followup_16w (or followup_52w) is `yes`, or is a reason it was not
done (declined, unable to contact, died, moved away: the dictionary's `not_done_reason` codes).
By default the follow-up lists hold the patients KPIs 9 to 11 count: those recommended a bone
therapy drug; `everyone` lists every patient.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from sqlalchemy import Engine, and_, func, or_, select

from flsdb.dictionary import load_dictionary
from flsdb.errors import ConfigurationError
from flsdb.services.access import Actor, authorize, patient_filter
from flsdb.services.events import record_event
from flsdb.services.missing import missing_clause, missing_count, missing_labels
from flsdb.services.records import as_json, page
from flsdb.storage.tables import records

ListName = Literal["due_16w", "overdue_16w", "due_52w", "overdue_52w", "missing_fields"]
LIST_NAMES: tuple[ListName, ...] = (
    "due_16w",
    "overdue_16w",
    "due_52w",
    "overdue_52w",
    "missing_fields",
)
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


@cache
def not_done_reasons() -> tuple[str, ...]:
    """The codes that record why a follow-up was not done (declined, died, ...)."""
    return load_dictionary().codesets["followup"].groups["not_done_reason"]


def recommended() -> Any:
    """The SQL condition of KPIs 9 to 11's denominator: bone_therapy_recommended holds a drug
    code (recorded, and not an outcome code such as informed decline or referred to GP)."""
    dictionary = load_dictionary()
    spec = dictionary.record_fields["bone_therapy_recommended"]
    outcomes = dictionary.codesets[str(spec.outcomes)].codes
    column = records.c.bone_therapy_recommended
    return and_(column.is_not(None), column != "", column.not_in(outcomes))


def _fracture_between(first: dt.date, last: dt.date) -> Any:
    column = records.c.date_fracture_diagnosed
    return and_(column >= first, column <= last)


def _span(window: Window, name: str, today: dt.date) -> Any:
    if name.startswith("due"):
        return _fracture_between(
            today - dt.timedelta(days=window.due),
            today - dt.timedelta(days=window.due - AHEAD_DAYS),
        )
    return _fracture_between(
        today - dt.timedelta(days=window.closes),
        today - dt.timedelta(days=window.due + 1),
    )


def _clause(name: ListName, today: dt.date, everyone: bool = False) -> tuple[Any, Window | None]:
    if name == "missing_fields":
        return missing_clause(today), None
    window = WINDOWS[name[-3:]]
    column = records.c[window.followup]
    not_recorded = or_(column.is_(None), column.not_in(("yes", *not_done_reasons())))
    found = and_(_span(window, name, today), not_recorded)
    return (found if everyone else and_(found, recommended())), window


def _age(row: Any, today: dt.date) -> int | None:
    born = row.date_of_birth
    if born is None:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _order(name: ListName, today: dt.date) -> tuple[Any, ...]:
    """Most urgent first: the follow-up lists by fracture date (the most overdue, or the soonest
    due, first); the missing-fields list by how many fields are missing, then the oldest."""
    if name == "missing_fields":
        return (missing_count(today).desc(), records.c.date_fracture_diagnosed, records.c.id)
    return (records.c.date_fracture_diagnosed, records.c.id)


def _checked_day(today: dt.date | None) -> dt.date:
    today = today or dt.date.today()
    if not EARLIEST <= today <= dt.date.today() + dt.timedelta(days=366):
        raise ConfigurationError(
            f"A worklist's date must be from {EARLIEST:%-d %b %Y} to a year from today; "
            f"{today:%-d %b %Y} is outside that."
        )
    return today


def worklist(
    engine: Engine,
    actor: Actor,
    service_code: str,
    name: ListName,
    today: dt.date | None = None,
    limit: int = 500,
    offset: int = 0,
    everyone: bool = False,
) -> dict[str, Any]:
    """One page of one list for one FLS, with the list's true total. Each row is the record
    with `age` (years today); on a follow-up list `due_date` and `days_to_due`; on the
    missing-fields list `missing` (the labels of the key fields it lacks)."""
    authorize(actor, "read_patients", service_code)
    today = _checked_day(today)
    clause, window = _clause(name, today, everyone)
    where = [patient_filter(actor, records.c.service_code, service_code), clause]
    rows, total = page(engine, where, _order(name, today), limit, offset)
    out = []
    for row in rows:
        item = as_json(row._mapping)
        item["age"] = _age(row, today)
        if window is not None:
            due = row.date_fracture_diagnosed + dt.timedelta(days=window.due)
            item["due_date"] = due.isoformat()
            item["days_to_due"] = (due - today).days
        else:
            item["missing"] = missing_labels(row._mapping, today)
        out.append(item)
    who = "everyone" if everyone else "recommended bone therapy"
    record_event(
        engine,
        actor.username,
        "read_worklist",
        service_code=service_code,
        detail=f"{name} ({who}) as of {today.isoformat()}: {total} records",
    )
    return {
        "service": service_code,
        "list": name,
        "title": TITLES[name],
        "as_of": today.isoformat(),
        "everyone": everyone,
        "total": total,
        "offset": offset,
        "rows": out,
    }


def counts(
    engine: Engine, actor: Actor, service_code: str, today: dt.date, everyone: bool = False
) -> dict[str, int]:
    """How many records each list holds (for the tabs)."""
    authorize(actor, "read_patients", service_code)
    found: dict[str, int] = {}
    with engine.connect() as conn:
        for name in LIST_NAMES:
            clause, _ = _clause(name, today, everyone)
            found[name] = int(
                conn.execute(
                    select(func.count())
                    .select_from(records)
                    .where(records.c.service_code == service_code, clause)
                ).scalar_one()
            )
    return found


def not_done(
    engine: Engine,
    actor: Actor,
    service_code: str,
    name: ListName,
    today: dt.date,
    everyone: bool = False,
) -> dict[str, int]:
    """The patients a follow-up list would hold but for a recorded reason the follow-up was not
    done, by reason (declined, unable to contact, died, moved away): none on the missing list."""
    authorize(actor, "read_patients", service_code)
    if name == "missing_fields":
        return {}
    window = WINDOWS[name[-3:]]
    column = records.c[window.followup]
    where = [
        records.c.service_code == service_code,
        _span(window, name, today),
        column.in_(not_done_reasons()),
    ]
    if not everyone:
        where.append(recommended())
    with engine.connect() as conn:
        found: dict[Any, Any] = dict(
            conn.execute(
                select(column, func.count()).select_from(records).where(*where).group_by(column)
            ).all()
        )
    return {reason: int(found.get(reason, 0)) for reason in not_done_reasons()}


def next_after(
    engine: Engine,
    actor: Actor,
    service_code: str,
    name: ListName,
    record_id: int,
    fracture: dt.date,
    today: dt.date | None = None,
    everyone: bool = False,
) -> int | None:
    """The record after this one on the list (in the list's order), or the list's first record
    other than this one when it was the last; None when the list holds no other record."""
    authorize(actor, "read_patients", service_code)
    today = _checked_day(today)
    clause, _ = _clause(name, today, everyone)
    where = [
        patient_filter(actor, records.c.service_code, service_code),
        clause,
        records.c.id != record_id,
    ]
    later = or_(
        records.c.date_fracture_diagnosed > fracture,
        and_(records.c.date_fracture_diagnosed == fracture, records.c.id > record_id),
    )
    order = (records.c.date_fracture_diagnosed, records.c.id)
    with engine.connect() as conn:
        for extra in (later, None):
            query = select(records.c.id).where(*where).order_by(*order).limit(1)
            if extra is not None:
                query = query.where(extra)
            found = conn.execute(query).scalar()
            if found is not None:
                return int(found)
    return None
