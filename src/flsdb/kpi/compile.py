"""Compile catalogue conditions to Ibis boolean expressions, once for every engine.

Backend gaps are handled here and nowhere else: SQLite (before 3.46) cannot add intervals to
dates, so day differences use its native JULIANDAY there and Ibis's date delta elsewhere. A
store (SQLite, PostgreSQL) keeps the day offsets from the fracture with each record
(`storage.offsets`), so there a gap is a stored integer and no date is parsed per row; files
(DuckDB, Spark) compute it on the fly.

Each leaf of a condition (a comparison of one column) is made null-safe where it is built, so
the trees above it need no further care, and a query can compute every distinct leaf once per
row (`Compiler.collecting`, then `Compiler.with_leaves`) instead of once per count that uses it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field, replace

import ibis
import ibis.expr.types as ir

from flsdb.dictionary import load_dictionary
from flsdb.kpi.catalogue import Catalogue, Condition
from flsdb.storage.offsets import offset_column

FRACTURE = "date_fracture_diagnosed"
MISSING_CODE = "not_known"
# Engines that evaluate a query row by row (not in vectors), and a LIMIT that limits nothing.
ROW_ENGINES = ("sqlite", "postgres")
NO_LIMIT = 2**62


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
    """Turns conditions into expressions over one records table.

    `leaves` names the table's columns that already hold a leaf's value; `found` (when set)
    collects every leaf built, for a query to add them as columns first.
    """

    table: ir.Table
    catalogue: Catalogue
    as_of: dt.date
    backend: str
    leaves: Mapping[Hashable, str] = field(default_factory=dict)
    found: dict[Hashable, ir.BooleanValue] | None = None

    @classmethod
    def collecting(
        cls, table: ir.Table, catalogue: Catalogue, as_of: dt.date, backend: str
    ) -> Compiler:
        return cls(table, catalogue, as_of, backend, found={})

    def with_leaves(self) -> Compiler:
        """A compiler over the table with every collected leaf added as a column (computed
        once per row, however many counts use it)."""
        assert self.found is not None, "with_leaves needs a collecting compiler"
        names = {key: f"_leaf{number}" for number, key in enumerate(self.found)}
        table = self.table.mutate(**{names[key]: expr for key, expr in self.found.items()})
        if self.backend == "sqlite":
            # SQLite would flatten the subquery, copying each leaf into every count that uses
            # it; a LIMIT keeps it a co-routine, each row's leaves computed once. (PostgreSQL
            # flattens it too, but a LIMIT there would stop its parallel workers: slower.)
            table = table.limit(NO_LIMIT)
        return replace(self, table=table, leaves=names, found=None)

    def count(self, condition: ir.BooleanValue) -> ir.IntegerValue:
        """How many rows satisfy a condition (never null itself)."""
        if self.backend in ROW_ENGINES:
            # COUNT(*) FILTER: the cheapest form in SQLite and PostgreSQL, the slowest in DuckDB
            # (measured on 1,000,000 records).
            return self.table.count(where=condition)
        return condition.sum()

    def leaf(self, key: Hashable, build: Callable[[], ir.BooleanValue]) -> ir.BooleanValue:
        """A null-safe leaf: unknown values never satisfy it."""
        name = self.leaves.get(key)
        if name is not None:
            return self.table[name]
        expr = build().fill_null(False)
        if self.found is not None:
            self.found.setdefault(key, expr)
        return expr

    def due(self, window: str) -> ir.BooleanValue:
        cutoff = self.as_of - dt.timedelta(days=self.catalogue.due_windows[window])
        return self.leaf(("due", window), lambda: self.table[FRACTURE] <= ibis.literal(cutoff))

    def missing(self, column: str) -> ir.BooleanValue:
        """A key field left blank or recorded as not known (for completeness)."""

        def build() -> ir.BooleanValue:
            value = self.table[column]
            if value.type().is_string():
                return value.isnull() | (value == MISSING_CODE)
            return value.isnull()

        return self.leaf(("missing", column), build)

    def holds_drug(self, column: str) -> ir.BooleanValue:
        # Stored values are validated and normalised: drug codes joined by ';' or one outcome.
        spec = load_dictionary().record_fields[column]
        outcomes = list(load_dictionary().outcome_codes(spec))
        value = self.table[column]
        return value.notnull() & ~value.isin(outcomes)

    def holds_any(self, column: str, codes: tuple[str, ...]) -> ir.BooleanValue:
        padded = ibis.literal(";") + self.table[column] + ibis.literal(";")
        return _fold([padded.contains(f";{code};") for code in codes], "or")

    def within_days(self, column: str, days: int) -> ir.BooleanValue:
        stored = offset_column(column)
        if stored in self.table.columns:
            return self.table[stored].between(0, days)
        # BETWEEN evaluates the gap once (two date parses per row on SQLite, not four).
        gap = days_between(self.table[FRACTURE], self.table[column], self.backend)
        return gap.between(0, days)

    def __call__(self, condition: Condition | None) -> ir.BooleanValue:
        """A boolean that is never null: unknown values never satisfy a condition."""
        if condition is None:
            # A column expression, not a literal: a literal would aggregate as a scalar.
            return self.leaf(("records",), lambda: self.table[FRACTURE].notnull())
        return self._compile(condition)

    def _compile(self, c: Condition) -> ir.BooleanValue:
        # Leaves are null-safe, so AND, OR and NOT above them are plain two-valued logic (the
        # same answer as SQL's three-valued logic with unknown taken as false at the top).
        if c.all_of is not None:
            return _fold([self._compile(x) for x in c.all_of], "and")
        if c.any_of is not None:
            return _fold([self._compile(x) for x in c.any_of], "or")
        if c.not_ is not None:
            return ~self._compile(c.not_)
        if c.ref is not None:
            return self._compile(self.catalogue.definitions[c.ref])
        if c.due is not None:
            return self.due(c.due)
        return self.leaf(c, lambda: self._leaf(c))

    def _leaf(self, c: Condition) -> ir.BooleanValue:
        t = self.table
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
        assert c.at_most is not None
        return t[c.at_most.column] <= c.at_most.value


def _fold(items: list[ir.BooleanValue], how: str) -> ir.BooleanValue:
    result = items[0]
    for item in items[1:]:
        result = (result & item) if how == "and" else (result | item)
    return result
