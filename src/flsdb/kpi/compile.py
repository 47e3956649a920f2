"""Compile catalogue conditions to Ibis boolean expressions, once for every engine.

Backend gaps are handled here and nowhere else: SQLite (before 3.46) cannot add intervals to
dates, so day differences use its native JULIANDAY there and Ibis's date delta elsewhere. A
store (SQLite, PostgreSQL) keeps the day offsets from the fracture with each record
(`storage.offsets`), so there a gap is a stored integer and no date is parsed per row; files
(DuckDB, Spark) compute it on the fly.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from flsdb.dictionary import load_dictionary
from flsdb.kpi.catalogue import Catalogue, Condition
from flsdb.storage.offsets import offset_column

FRACTURE = "date_fracture_diagnosed"


@ibis.udf.scalar.builtin
def julianday(value: dt.date) -> float:  # type: ignore[empty-body]
    """SQLite's native JULIANDAY (only compiled for SQLite)."""


def days_between(start: ir.DateValue, end: ir.DateValue, backend: str) -> ir.NumericValue:
    """Days from start to end (negative when end is earlier); whole, as dates have no time."""
    if backend == "sqlite":
        return julianday(end) - julianday(start)
    return end.delta(start, unit="day")


def year_and_month(date: ir.DateValue, backend: str) -> tuple[ir.IntegerValue, ir.IntegerValue]:
    """Calendar year and month of a date.

    SQLite stores dates as ISO text: slicing it is cheaper than STRFTIME over a million rows.
    Quarters are derived from months downstream (Ibis 12 compiles quarter() to a fraction on
    SQLite).
    """
    if backend == "sqlite":
        text = date.cast("string")
        return text.substr(0, 4).cast("int64"), text.substr(5, 2).cast("int64")
    return date.year().cast("int64"), date.month().cast("int64")


def whole_years(born: ir.DateValue, on: ir.DateValue) -> ir.IntegerValue:
    """Completed years of age on a date, from calendar parts (portable to every engine)."""
    before_birthday = (on.month() < born.month()) | (
        (on.month() == born.month()) & (on.day() < born.day())
    )
    return on.year() - born.year() - before_birthday.ifelse(1, 0)


@dataclass(frozen=True)
class Compiler:
    """Turns conditions into expressions over one records table."""

    table: ir.Table
    catalogue: Catalogue
    as_of: dt.date
    backend: str

    def due(self, window: str) -> ir.BooleanValue:
        cutoff = self.as_of - dt.timedelta(days=self.catalogue.due_windows[window])
        return self.table[FRACTURE] <= ibis.literal(cutoff)

    def holds_drug(self, column: str) -> ir.BooleanValue:
        # Stored values are validated and normalised: drug codes joined by ';' or one outcome.
        spec = load_dictionary().record_fields[column]
        outcomes = list(load_dictionary().outcome_codes(spec))
        value = self.table[column]
        return value.notnull() & ~value.isin(outcomes)

    def holds_any(self, column: str, codes: tuple[str, ...]) -> ir.BooleanValue:
        padded = ibis.literal(";") + self.table[column] + ibis.literal(";")
        found = [padded.contains(f";{code};") for code in codes]
        result = found[0]
        for item in found[1:]:
            result = result | item
        return result

    def within_days(self, column: str, days: int) -> ir.BooleanValue:
        stored = offset_column(column)
        if stored in self.table.columns:
            return self.table[stored].between(0, days)
        # BETWEEN evaluates the gap once (two date parses per row on SQLite, not four).
        gap = days_between(self.table[FRACTURE], self.table[column], self.backend)
        return gap.between(0, days)

    def __call__(self, condition: Condition | None) -> ir.BooleanValue:
        """A null-safe boolean: unknown values never satisfy a condition."""
        if condition is None:
            # A column expression, not a literal: a literal would aggregate as a scalar.
            return self.table[FRACTURE].notnull()
        return self._compile(condition).fill_null(False)

    def _compile(self, c: Condition) -> ir.BooleanValue:
        t = self.table
        # SQL's three-valued AND/OR only need nulls made false once, at the top; NOT needs it
        # under it, or NOT (unknown) would stay unknown.
        if c.all_of is not None:
            return _fold([self._compile(x) for x in c.all_of], "and")
        if c.any_of is not None:
            return _fold([self._compile(x) for x in c.any_of], "or")
        if c.not_ is not None:
            return ~self(c.not_)
        if c.ref is not None:
            return self._compile(self.catalogue.definitions[c.ref])
        if c.equals is not None:
            return t[c.equals.column] == c.equals.value
        if c.in_ is not None:
            return t[c.in_.column].isin(list(c.in_.values))
        if c.within_days is not None:
            return self.within_days(c.within_days.column, c.within_days.days)
        if c.holds_drug is not None:
            return self.holds_drug(c.holds_drug)
        if c.holds_any is not None:
            return self.holds_any(c.holds_any.column, c.holds_any.values)
        if c.at_most is not None:
            return t[c.at_most.column] <= c.at_most.value
        assert c.due is not None
        return self.due(c.due)


def _fold(items: list[ir.BooleanValue], how: str) -> ir.BooleanValue:
    result = items[0]
    for item in items[1:]:
        result = (result & item) if how == "and" else (result | item)
    return result
