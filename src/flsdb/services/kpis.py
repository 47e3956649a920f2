"""KPIs for a signed-in person: region and nation rows for everyone; FLS rows only for the FLSs
in their scope (their own, their region's, or all), unsuppressed: aggregates are internal to the
people responsible for them."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flsdb.errors import ConfigurationError
from flsdb.services.access import Actor
from flsdb.services.events import record_event

LEVELS = ("service", "region", "nation", "age_band", "sex", "care_home")


def kpi_rows(
    database_url: str,
    engine: Any,
    actor: Actor,
    period: str,
    by: str,
    as_of: dt.date | None,
    cache: Any = None,
) -> list[dict[str, Any]]:
    """The rows of `flsdb kpis --format json`; from the dashboards' figures when a cache is
    given (the same engine, run once per period and extract date), so the API, the KPI page
    and the dashboards always agree."""
    from flsdb.kpi import parse_period
    from flsdb.reports.kpi_tables import kpi_json

    if by not in LEVELS:
        raise ConfigurationError(f"'{by}' is not a level; use one of {', '.join(LEVELS)}.")
    chosen = parse_period(period)
    as_of = as_of or dt.date.today()
    if by == "service" and actor.visible is not None and not actor.visible:
        return []
    if cache is not None:
        from flsdb.services.dashboards import report_data

        table = report_data(cache, database_url, engine, chosen.label, as_of).tables[by]
    else:
        from flsdb.kpi import KpiRequest, compute_kpis
        from flsdb.kpi.sources import source_from_database

        request = KpiRequest(period=chosen, by=by, as_of=as_of)
        table = compute_kpis(source_from_database(database_url), request).table
    rows: list[dict[str, Any]] = json.loads(kpi_json(table))
    if by == "service" and actor.visible is not None:
        rows = [r for r in rows if r["unit"] in actor.visible]
    record_event(engine, actor.username, "read_kpis", detail=f"{period} by {by}")
    return rows
