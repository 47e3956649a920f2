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
    return [row for _, row, _ in _rows(database_url, engine, actor, period, by, as_of, cache)]


def kpi_rows_json(
    database_url: str,
    engine: Any,
    actor: Actor,
    period: str,
    by: str,
    as_of: dt.date | None,
    cache: Any = None,
) -> str:
    """`kpi_rows` as JSON text, each row encoded once per computation of the figures."""
    found = _rows(database_url, engine, actor, period, by, as_of, cache)
    return "[" + ",".join(text for _, _, text in found) + "]"


def _rows(
    database_url: str,
    engine: Any,
    actor: Actor,
    period: str,
    by: str,
    as_of: dt.date | None,
    cache: Any,
) -> list[tuple[str, dict[str, Any], str]]:
    """(unit, row, row as JSON) for the rows the actor may see; the read is audited."""
    from flsdb.kpi import parse_period

    if by not in LEVELS:
        raise ConfigurationError(f"'{by}' is not a level; use one of {', '.join(LEVELS)}.")
    chosen = parse_period(period)
    as_of = as_of or dt.date.today()
    if by == "service" and actor.visible is not None and not actor.visible:
        return []
    if cache is not None:
        from flsdb.services.dashboards import memo, report_data

        data = report_data(cache, database_url, engine, chosen.label, as_of)
        rows = memo("kpi rows", data, by, make=lambda: _encoded(data.tables[by]))
    else:
        from flsdb.kpi import KpiRequest, compute_kpis
        from flsdb.kpi.sources import source_from_database

        request = KpiRequest(period=chosen, by=by, as_of=as_of)
        rows = _encoded(compute_kpis(source_from_database(database_url), request).table)
    if by == "service" and actor.visible is not None:
        rows = [r for r in rows if r[0] in actor.visible]
    record_event(engine, actor.username, "read_kpis", detail=f"{chosen.label} by {by}")
    return rows


def _encoded(table: Any) -> list[tuple[str, dict[str, Any], str]]:
    from flsdb.reports.kpi_tables import kpi_records

    return [(str(r["unit"]), r, json.dumps(r)) for r in kpi_records(table)]
