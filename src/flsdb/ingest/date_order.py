"""Which way round a file writes its dates: day first (DD/MM, the UK order) or month first.

A date written with slashes whose day and month are both 12 or less (05/10/2026) reads either
way. The file's other slash dates decide, across every date column at once (one system wrote
the file): a day over 12 (25/12/2026) shows day first, a second number over 12 (12/25/2026)
shows month first. The ambiguous dates are then

- read day first with a warning each, naming how they were read, where the file shows day
  first, or where nothing in the file shows the order (DD/MM is the UK order flsdb reads);
- refused, each with one sentence, where the file writes dates month first (uploads do not
  accept that order, so its unambiguous month-first dates are refused as not dates) or both ways.

A date whose day and month are equal (05/05/2026) reads the same either way and is not flagged.
The evidence is gathered batch by batch, so the decision covers the whole file; the ambiguous
cells wait (at most `MAX_LISTED`, the rest counted) until the last batch is read."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import polars as pl

from flsdb.dictionary.schema import FieldSpec
from flsdb.ingest.cells import FEW_ROWS
from flsdb.ingest.issues import MAX_LISTED, ROW, IssueCollector

SLASH = r"^([0-9]{1,2})/([0-9]{1,2})/([0-9]{2}|[0-9]{4})$"
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


@dataclass
class _Example:
    value: str
    row: int
    label: str
    identifiable: bool

    def words(self) -> str:
        """Where the file shows its order: the value, except an identifier's."""
        if self.identifiable:
            return f"{self.label} in row {self.row}"
        return f"'{self.value}' in row {self.row}"


@dataclass
class DateOrder:
    """The slash dates of one upload, watched for the order of day and month."""

    fields: tuple[FieldSpec, ...]
    day_first: _Example | None = None
    month_first: _Example | None = None
    ambiguous: list[pl.DataFrame] = field(default_factory=list)
    kept: int = 0
    unlisted: int = 0

    def observe(self, raw: pl.DataFrame) -> None:
        """Note one batch's slash dates (the raw text of its date columns)."""
        for spec in self.fields:
            if spec.type != "date" or spec.name not in raw.columns:
                continue
            if raw.height <= FEW_ROWS and not any("/" in v for v in raw[spec.name] if v):
                continue  # a form's or the API's ISO dates: no query planned for nothing
            parts = raw.select(
                pl.col(ROW).cast(pl.Int64).alias("row"),
                pl.col(spec.name).alias("value"),
                pl.col(spec.name).str.extract(SLASH, 1).cast(pl.Int32).alias("first"),
                pl.col(spec.name).str.extract(SLASH, 2).cast(pl.Int32).alias("second"),
            ).filter(pl.col("first").is_not_null())
            if parts.height == 0:
                continue
            if self.day_first is None:
                self.day_first = self._example(
                    parts,
                    pl.col("first").is_between(13, 31) & pl.col("second").is_between(1, 12),
                    spec,
                )
            if self.month_first is None:
                self.month_first = self._example(
                    parts,
                    pl.col("second").is_between(13, 31) & pl.col("first").is_between(1, 12),
                    spec,
                )
            both = parts.filter(
                (pl.col("first") <= 12)
                & (pl.col("second") <= 12)
                & (pl.col("first") != pl.col("second"))
                & (pl.col("first") >= 1)
                & (pl.col("second") >= 1)
            )
            if both.height == 0:
                continue
            room = max(MAX_LISTED - self.kept, 0)
            self.unlisted += max(both.height - room, 0)
            both = both.head(room)
            if both.height:
                self.ambiguous.append(
                    both.with_columns(
                        column=pl.lit(spec.name),
                        label=pl.lit(spec.label),
                        identifiable=pl.lit(spec.identifiable),
                    )
                )
                self.kept += both.height

    @staticmethod
    def _example(parts: pl.DataFrame, where: pl.Expr, spec: FieldSpec) -> _Example | None:
        found = parts.filter(where).head(1)
        if found.height == 0:
            return None
        return _Example(str(found["value"][0]), int(found["row"][0]), spec.label, spec.identifiable)

    @property
    def refused(self) -> bool:
        """Whether the ambiguous dates are errors (the file writes dates month first)."""
        return self.month_first is not None

    def report(self, issues: IssueCollector) -> None:
        """Add a warning or an error for every ambiguous date to `issues`."""
        if not self.ambiguous and not self.unlisted:
            return
        level = "error" if self.refused else "warning"
        if self.ambiguous:
            frame = pl.concat(self.ambiguous)
            issues.add(
                frame.select(
                    level=pl.lit(level),
                    row=pl.col("row"),
                    column=pl.col("column"),
                    value=pl.col("value").fill_null(""),
                    message=self._messages(frame),
                )
            )
        if self.unlisted:
            issues.unlisted[level] = issues.unlisted.get(level, 0) + self.unlisted

    def _messages(self, frame: pl.DataFrame) -> pl.Series:
        reason = self._reason()
        out = []
        for label, value, first, second, hidden in frame.select(
            "label", "value", "first", "second", "identifiable"
        ).iter_rows():
            year = _year(value, first, second)
            day_first = f"{first} {_MONTHS[second - 1]} {year}"
            month_first = f"{second} {_MONTHS[first - 1]} {year}"
            said = f"{label}: the date" if hidden else f"{label}: '{value}'"
            if self.refused:
                ways = "two ways" if hidden else f"as {day_first} or as {month_first}"
                out.append(
                    f"{said} could be read {ways}, and {reason}; write the dates as DD/MM/YYYY "
                    "(or YYYY-MM-DD) and upload the file again"
                )
            else:
                read = "" if hidden else f" as {day_first}, not {month_first}"
                out.append(f"{said} read day first{read}: {reason}")
        return pl.Series("message", out, dtype=pl.String)

    def _reason(self) -> str:
        if self.day_first is not None and self.month_first is not None:
            return (
                "this file writes dates both day first "
                f"({self.day_first.words()}) and month first ({self.month_first.words()})"
            )
        if self.month_first is not None:
            return (
                f"this file writes dates month first ({self.month_first.words()}), "
                "which uploads do not accept"
            )
        if self.day_first is not None:
            return f"the file's other dates are written day first ({self.day_first.words()})"
        return (
            "no date in the file has a day over 12 to show the order, so it was read as "
            "DD/MM/YYYY, the UK order: please check it"
        )


def _year(value: str, first: int, second: int) -> int:
    """The year as the reading gives it: four digits as written, two by the century rule of
    the date parser (the latest century not after today; its own warning says so)."""
    year = int(value.rsplit("/", 1)[-1])
    if year >= 100:
        return year
    try:
        later = dt.date(2000 + year, second, first) > dt.date.today()
    except ValueError:
        later = False
    return 1900 + year if later else 2000 + year
