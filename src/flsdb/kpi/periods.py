"""Audit periods: a calendar year, quarter or month, optionally split into smaller periods."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

from flsdb.dates import uk_date
from flsdb.errors import ConfigurationError

# The years a period or an extract date may fall in (date arithmetic stays inside Python's).
FIRST_YEAR = 1900
LAST_YEAR = 2199


def check_extract_date(as_of: dt.date) -> dt.date:
    """The extract date, if an audit can have it; ConfigurationError otherwise."""
    if not FIRST_YEAR <= as_of.year <= LAST_YEAR:
        raise ConfigurationError(
            f"The extract date {uk_date(as_of)} is not a date an audit can have: give one "
            f"from {FIRST_YEAR} to {LAST_YEAR}."
        )
    return as_of


Grain = Literal["year", "quarter", "month"]
_FORMS = (
    (re.compile(r"^(\d{4})$"), "year"),
    (re.compile(r"^(\d{4})-Q([1-4])$", re.IGNORECASE), "quarter"),
    (re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$"), "month"),
)


@dataclass(frozen=True)
class Period:
    """A closed date range with its label (2024, 2024-Q1 or 2024-03)."""

    label: str
    start: dt.date
    end: dt.date
    grain: Grain

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def year_fraction(self) -> float:
        """Days in the period over days in its year (for the expected caseload)."""
        return self.days / (366 if calendar.isleap(self.start.year) else 365)

    def year_fraction_by(self, as_of: dt.date) -> float:
        """The part of the period up to the extract date, over days in its year: a period not
        yet ended expects only the caseload of its days so far (none before it starts)."""
        if as_of >= self.end:
            return self.year_fraction
        elapsed = max(0, (as_of - self.start).days + 1)
        return elapsed / (366 if calendar.isleap(self.start.year) else 365)

    def split(self, grain: Grain | None) -> list[Period]:
        """The period itself, or its quarters or months."""
        if grain is None or grain == self.grain:
            return [self]
        order = ("year", "quarter", "month")
        if order.index(grain) < order.index(self.grain):
            raise ConfigurationError(f"cannot split the {self.grain} {self.label} into {grain}s")
        step = 3 if grain == "quarter" else 1
        parts = []
        for month in range(self.start.month, self.end.month + 1, step):
            label = (
                f"{self.start.year}-Q{(month - 1) // 3 + 1}"
                if grain == "quarter"
                else f"{self.start.year}-{month:02d}"
            )
            parts.append(parse_period(label))
        return parts


def parse_period(text: str) -> Period:
    """Parse `2024`, `2024-Q1` or `2024-03`."""
    text = text.strip()
    for pattern, grain in _FORMS:
        match = pattern.match(text)
        if not match:
            continue
        year = int(match.group(1))
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise ConfigurationError(
                f"'{text}' is not a period an audit can have: give a year from {FIRST_YEAR} to "
                f"{LAST_YEAR}."
            )
        if grain == "year":
            return Period(text, dt.date(year, 1, 1), dt.date(year, 12, 31), "year")
        if grain == "quarter":
            q = int(match.group(2))
            first = 3 * (q - 1) + 1
            last = dt.date(year, first + 2, calendar.monthrange(year, first + 2)[1])
            return Period(f"{year}-Q{q}", dt.date(year, first, 1), last, "quarter")
        month = int(match.group(2))
        end = dt.date(year, month, calendar.monthrange(year, month)[1])
        return Period(text, dt.date(year, month, 1), end, "month")
    raise ConfigurationError(
        f"'{text}' is not a period: use a year (2024), a quarter (2024-Q1) or a month (2024-03)"
    )


def label_for(year: int, grain: Grain, part: int | None) -> str:
    """Label of the sub-period a record falls in, from the year and quarter/month numbers."""
    if grain == "year" or part is None:
        return str(year)
    return f"{year}-Q{part}" if grain == "quarter" else f"{year}-{part:02d}"
