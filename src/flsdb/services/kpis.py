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
    database_url: str, engine: Any, actor: Actor, period: str, by: str, as_of: dt.date | None
) -> list[dict[str, Any]]:
    from flsdb.kpi import KpiRequest, compute_kpis, parse_period
    from flsdb.kpi.sources import source_from_database
    from flsdb.reports.kpi_tables import kpi_json

    if by not in LEVELS:
        raise ConfigurationError(f"'{by}' is not a level; use one of {', '.join(LEVELS)}.")
    services = None
    if by == "service" and actor.visible is not None:
        services = tuple(sorted(actor.visible))
        if not services:
            return []
    request = KpiRequest(
        period=parse_period(period),
        by=by,
        as_of=as_of or dt.date.today(),
        services=services,
    )
    result = compute_kpis(source_from_database(database_url), request)
    rows: list[dict[str, Any]] = json.loads(kpi_json(result.table))
    if by == "service" and actor.visible is not None:
        rows = [r for r in rows if r["unit"] in actor.visible]
    record_event(engine, actor.username, "read_kpis", detail=f"{period} by {by}")
    return rows
