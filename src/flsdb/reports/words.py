"""Small pieces of reader-facing wording: plurals, chart points and field labels (months as
people read them: `flsdb.dates`)."""

from __future__ import annotations

import datetime as dt
import re
from functools import cache

from flsdb.dates import uk_month
from flsdb.dictionary import load_dictionary

_MONTH = re.compile(r"\d{4}-\d{2}")  # a quarter is labelled by a month


def plural(count: int, one: str, many: str | None = None) -> str:
    """`one` for a count of 1, else `many` (default: `one` + 's'): '1 FLS', '2 FLSs'."""
    return one if count == 1 else (many if many is not None else f"{one}s")


def point_label(month: str, kind: str = "month") -> str:
    """A chart point as people read it: a month 'Dec 2024'; a quarter (labelled by its last
    month with patients) 'Oct–Dec 2024'."""
    if kind == "month" or not _MONTH.fullmatch(str(month)):
        return uk_month(month)
    year, number = int(month[:4]), int(month[5:7])
    first = (number - 1) // 3 * 3 + 1
    start = dt.date(year, first, 1).strftime("%b")
    return f"{start}–{dt.date(year, first + 2, 1).strftime('%b')} {year}"


@cache
def _labels() -> dict[str, str]:
    return load_dictionary().labels()


def field_label(name: object) -> str:
    """A record field as the data dictionary labels it ('Care home resident'), never its
    column name; a name the dictionary does not know stays as it is."""
    return _labels().get(str(name), str(name))
