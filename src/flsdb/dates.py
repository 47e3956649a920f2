"""Dates as UK readers read them: `6 Dec 2026`, in pages, reports and messages alike."""

from __future__ import annotations

import datetime as dt
import re

_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")


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
