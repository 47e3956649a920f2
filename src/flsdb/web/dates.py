"""Dates as UK readers write and read them: shown as `6 Dec 2026` (the `ukdate` filter of every
template), typed as DD/MM/YYYY (the ISO form 2026-12-06 is read too)."""

from __future__ import annotations

import datetime as dt
import re

from flsdb.dates import uk_date

__all__ = ["parse_typed", "typed_date", "uk_date", "uk_dates_in"]

_UK = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_IN_TEXT = re.compile(r"(?<![\d-])\d{4}-\d{2}-\d{2}(?![\d-])")


def uk_dates_in(text: object) -> str:
    """Text with every ISO date in it read as `6 Dec 2026` (an audit event's stored detail)."""
    if text is None:
        return ""
    return _ISO_IN_TEXT.sub(lambda found: uk_date(found.group(0)), str(text))


def typed_date(value: object) -> str:
    """A date as a DD/MM/YYYY text input shows it (blank for none)."""
    if value is None or value == "":
        return ""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    text = str(value)
    try:
        return dt.date.fromisoformat(text[:10]).strftime("%d/%m/%Y")
    except ValueError:
        return text


def parse_typed(text: str, label: str) -> dt.date | None:
    """A typed date: DD/MM/YYYY (D/M/YYYY too) or YYYY-MM-DD; blank is None; anything else is
    refused with one sentence naming the field."""
    text = text.strip()
    if not text:
        return None
    found = _UK.fullmatch(text)
    try:
        if found:
            day, month, year = (int(g) for g in found.groups())
            return dt.date(year, month, day)
        if _ISO.fullmatch(text):
            return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{label}: '{text[:20]}' is not a date in the calendar.") from None
    raise ValueError(
        f"{label}: '{text[:20]}' is not a date; type it as DD/MM/YYYY, for example 06/12/2026."
    )
