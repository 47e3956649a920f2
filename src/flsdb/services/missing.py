"""Which key fields a record is missing, as a person working through records reads it.

The key fields are kpi01's (the KPI catalogue's completeness measure), each where it applies:
the 16- and 52-week follow-ups once they are due, the therapy at 16 weeks once the follow-up
was done. A field is missing when it is blank. Unlike kpi01, an answer of "not known" is an
answer (there is nothing to fill in), and a field whose blank is itself an answer (the
dictionary's `blank_means`: a blank date of FLS assessment means "not assessed") is never
missing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import Integer, String, and_, case, func, literal, or_

from flsdb.dictionary import load_dictionary
from flsdb.errors import ConfigurationError
from flsdb.kpi.catalogue import load_catalogue
from flsdb.storage.tables import records


@dataclass(frozen=True)
class KeyField:
    column: str
    label: str
    due_days: int | None = None  # applies once the fracture is this many days old
    when: tuple[str, str] | None = None  # applies when this column holds this value


@cache
def key_fields() -> tuple[KeyField, ...]:
    """kpi01's key fields that can be missing, in the catalogue's order."""
    specs = load_dictionary().record_fields
    catalogue = load_catalogue()
    measure = next(m for m in catalogue.measures if m.kind == "completeness")
    found = []
    for key in measure.key_fields:
        spec = specs[key.column]
        if spec.blank_means:
            continue
        applies = key.applicable
        if applies is None:
            found.append(KeyField(key.column, spec.label))
        elif applies.due is not None:  # the catalogue's window: the worklist's is the same
            days = catalogue.due_windows[applies.due]
            found.append(KeyField(key.column, spec.label, due_days=days))
        elif applies.equals is not None:
            when = (applies.equals.column, applies.equals.value)
            found.append(KeyField(key.column, spec.label, when=when))
        else:
            raise ConfigurationError(
                f"The key field {spec.label} applies under a condition the worklist of missing "
                "fields cannot read (it reads 'due' and 'equals')."
            )
    return tuple(found)


def _blank(column: Any) -> Any:
    """Blank: null, or (text) empty; one comparison per row rather than two."""
    if isinstance(column.type, String):
        return func.coalesce(column, "") == ""
    return column.is_(None)


def _applies(key: KeyField, today: dt.date) -> Any:
    """When the key field applies (None: always)."""
    if key.due_days is not None:
        return records.c.date_fracture_diagnosed <= today - dt.timedelta(days=key.due_days)
    if key.when is not None:
        return records.c[key.when[0]] == key.when[1]
    return None


def missing_one(key: KeyField, today: dt.date) -> Any:
    """The SQL condition: the record is missing this key field."""
    blank = _blank(records.c[key.column])
    applies = _applies(key, today)
    return blank if applies is None else and_(blank, applies)


@lru_cache(maxsize=4)
def missing_clause(today: dt.date) -> Any:
    """The SQL condition: the record is missing at least one key field that applies (made once
    a day: a search or worklist builds no expression of its own; every column it reads is in
    the index `ix_records_key_fields`, so a count of an FLS's records reads the index alone)."""
    return or_(*[missing_one(k, today) for k in key_fields()])


def missing_count(today: dt.date) -> Any:
    """The SQL expression: how many applicable key fields the record is missing."""
    total: Any = literal(0, Integer)
    for key in key_fields():
        total = total + case((missing_one(key, today), 1), else_=0)
    return total


def missing_labels(row: Mapping[str, Any], today: dt.date) -> list[str]:
    """The labels of the key fields this record (as stored) is missing, in the form's order."""
    found = []
    for key in key_fields():
        if row.get(key.column) not in (None, ""):
            continue
        if key.due_days is not None:
            fracture = row.get("date_fracture_diagnosed")
            if isinstance(fracture, str):
                fracture = dt.date.fromisoformat(fracture)
            if fracture is None or fracture > today - dt.timedelta(days=key.due_days):
                continue
        if key.when is not None and row.get(key.when[0]) != key.when[1]:
            continue
        found.append(key.label)
    return found
