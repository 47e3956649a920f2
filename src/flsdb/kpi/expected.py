"""Each unit's yearly expected caseload (kpi02's denominator before the period's share of it).

It follows from the services table alone (and the caseload estimate made from it): the same
for every period and extract date. Worked out with pandas it was about a fifth of the KPI rows
of a new period (a merge and a grouped sum per level and part), so the last few answers are
kept, keyed by the values of the tables they were made from (never by an object's identity).
"""

from __future__ import annotations

from collections.abc import Hashable

import pandas as pd

from flsdb.kept import Kept
from flsdb.kpi.catalogue import Measure

ALL_NATIONS = "all"
_UNIT_COLUMN = {"service": "service_code", "region": "region_code", "nation": "nation"}
_KEEP = 64  # answers by (level, measure) and part: a few services tables' worth
_KEPT = Kept(_KEEP)


def expected_columns(expected: str) -> list[str]:
    """The estimate's columns a part's expected caseload adds up."""
    return (
        ["expected_spine", "expected_non_spine"] if expected == "all" else [f"expected_{expected}"]
    )


def _values(frame: pd.DataFrame) -> Hashable:
    """A frame's columns, types and values, as a key that only equal frames share."""
    return (
        tuple(frame.columns),
        tuple(str(t) for t in frame.dtypes),
        tuple(frame.itertuples(index=False, name=None)),
    )


def expected_by_unit(
    services: pd.DataFrame, expected: pd.DataFrame, measure: Measure, level: str
) -> dict[str, pd.Series]:
    """Yearly expected caseload per unit and part, summed over the services whose caseload is
    known (kept: the caller must not change the series)."""
    listed = services[["service_code", "region_code", "nation"]]
    parts = tuple((part_id, part.expected) for part_id, part in measure.parts.items())
    key = (level, measure.id, parts, _values(listed), _values(expected))
    return _KEPT.get(key, lambda: _worked_out(listed, expected, measure, level))


def known_caseloads(expected: pd.DataFrame, part: str) -> frozenset[str]:
    """The FLSs whose expected caseload of a part (`Part.expected`) is known (kept)."""
    key = ("known", part, _values(expected))
    return _KEPT.get(key, lambda: _known(expected, part))


def _known(expected: pd.DataFrame, part: str) -> frozenset[str]:
    columns = expected_columns(part)
    yearly = expected.set_index("service_code")[columns].sum(axis=1, min_count=len(columns))
    return frozenset(str(code) for code in yearly[yearly.notna()].index)


def _worked_out(
    services: pd.DataFrame, expected: pd.DataFrame, measure: Measure, level: str
) -> dict[str, pd.Series]:
    merged = services.merge(expected, on="service_code")
    unit = _UNIT_COLUMN[level]
    out = {}
    for part_id, part in measure.parts.items():
        columns = expected_columns(part.expected)
        merged["_yearly"] = merged[columns].astype("float64").sum(axis=1, min_count=len(columns))
        by_unit = merged.groupby(unit)["_yearly"].sum(min_count=1)
        if level == "nation":
            by_unit[ALL_NATIONS] = merged["_yearly"].sum(min_count=1)
        out[part_id] = by_unit
    return out
