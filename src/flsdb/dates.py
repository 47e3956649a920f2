"""Dates as UK readers read them: `6 Dec 2026`, in pages, reports and messages alike."""

from __future__ import annotations

import datetime as dt
import re

_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")
_MONTH = re.compile(r"\b(\d{4})-(\d{2})\b(?!-\d)")


def uk_date(value: object) -> str:
    """A date (or its ISO text, or a timestamp's) as `6 Dec 2026`; blank for none."""
    if value is None or value == "":
        return ""
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        text = str(value)
        if not _ISO.match(text):
            return text
        try:
            value = dt.date.fromisoformat(text[:10])
        except ValueError:
            return text
    return f"{value.day} {value:%b %Y}"


def uk_month(month: object) -> str:
    """An ISO month ('2024-12') as `Dec 2024`; any other text unchanged."""
    found = _MONTH.fullmatch(str(month).strip())
    if not found:
        return str(month)
    return dt.date(int(found.group(1)), int(found.group(2)), 1).strftime("%b %Y")


def uk_months(text: object) -> str:
    """Every ISO month inside a text as `Dec 2024` ('2023-01 to 2023-12' becomes 'Jan 2023 to
    Dec 2023'); full ISO dates are left alone."""
    return _MONTH.sub(lambda m: uk_month(m.group(0)), str(text))


def point_label(month: str, kind: str = "month") -> str:
    """A chart point as people read it: a month 'Dec 2024'; a quarter (labelled by its last
    month with patients) 'Oct–Dec 2024'."""
    found = _MONTH.fullmatch(str(month).strip())
    if kind == "month" or not found:
        return uk_month(month)
    year, number = int(found.group(1)), int(found.group(2))
    first = (number - 1) // 3 * 3 + 1
    start = dt.date(year, first, 1).strftime("%b")
    return f"{start}–{dt.date(year, first + 2, 1).strftime('%b')} {year}"
