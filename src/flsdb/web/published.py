"""Dashboard figures as published, for a viewer whose disclosure level is `published`
(`flsdb.services.policy.disclosure`): monthly SPC points and completeness counts with small
counts withheld, as the reports withhold them."""

from __future__ import annotations

from typing import Any

import pandas as pd

from flsdb.disclosure import WITHHELD, is_hidden, protect_tables
from flsdb.figures import PeriodFigures


def published_months(
    data: PeriodFigures, frame: pd.DataFrame
) -> dict[tuple[str, str, str], dict[str, Any]]:
    """The monthly rows as published, by (unit, kpi, month), once per computation."""

    def make() -> dict[tuple[str, str, str], dict[str, Any]]:
        shown = protect_tables({"service": frame}, data.services, data.thresholds.suppression)
        return {
            (str(r["unit"]), str(r["kpi"]), str(r["period"])): {str(k): v for k, v in r.items()}
            for r in shown["service"].to_dict("records")
        }

    which = "nation" if frame is data.monthly_nation else "service"
    return data.view("months published", which, make=make)


def withhold(point: dict[str, Any], row: dict[str, Any] | None) -> dict[str, Any]:
    """A month's point as published: withheld counts as their marks, with nothing derived."""
    if row is None:
        return point
    hidden = {k: row[k] for k in ("numerator", "denominator") if is_hidden(row.get(k))}
    if not hidden:
        return point
    return {
        **point,
        **hidden,
        "percent": None,
        "lower": None,
        "upper": None,
        "signal": "withheld",
        "rules": "withheld",
    }


def small_withheld(row: dict[str, Any], policy: Any) -> dict[str, Any]:
    """A completeness row as published: a count of 1 to 4 (records, missing, or complete)
    withheld with its percentage."""

    def small(n: int) -> bool:
        return 1 <= n < policy.below

    applicable, missing = int(row["applicable"]), int(row["missing"])
    if not (small(applicable) or small(missing) or small(applicable - missing)):
        return row
    return {
        **row,
        "applicable": policy.label if small(applicable) else applicable,
        "missing": policy.label if small(missing) else WITHHELD,
        "percent": None,
    }
