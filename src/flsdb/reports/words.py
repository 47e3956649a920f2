"""Small pieces of reader-facing wording: plurals, chart points and field labels (months as
people read them: `flsdb.dates`)."""

from __future__ import annotations

from functools import cache

from flsdb.dates import point_label as point_label  # shared with the dashboards
from flsdb.dictionary import load_dictionary


def plural(count: int, one: str, many: str | None = None) -> str:
    """`one` for a count of 1, else `many` (default: `one` + 's'): '1 FLS', '2 FLSs'."""
    return one if count == 1 else (many if many is not None else f"{one}s")


@cache
def _labels() -> dict[str, str]:
    return load_dictionary().labels()


def field_label(name: object) -> str:
    """A record field as the data dictionary labels it ('Care home resident'), never its
    column name; a name the dictionary does not know stays as it is."""
    return _labels().get(str(name), str(name))
