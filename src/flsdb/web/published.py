"""Dashboard figures as published, for a viewer whose disclosure level is `published`
(`flsdb.services.policy.disclosure`): monthly SPC points and completeness counts with small
counts withheld, as the reports withhold them."""

from __future__ import annotations

from typing import Any

from flsdb.disclosure import WITHHELD, is_hidden
from flsdb.services.dashboards import memo


def published_months(data: Any, frame: Any) -> dict[tuple[str, str, str], dict[str, Any]]:
    """The monthly rows as published, by (unit, kpi, month), once per computation."""

    def make() -> dict[tuple[str, str, str], dict[str, Any]]:
        from flsdb.disclosure import protect_tables

        shown = protect_tables({"service": frame}, data.services, data.thresholds.suppression)
        return {
            (str(r["unit"]), str(r["kpi"]), str(r["period"])): {str(k): v for k, v in r.items()}
            for r in shown["service"].to_dict("records")
        }

    found: dict[tuple[str, str, str], dict[str, Any]] = memo(
        "months shown", data, id(frame), make=make
    )
    return found


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
