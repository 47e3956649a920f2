"""KPIs for a signed-in person: region and nation rows for everyone; FLS rows only for the FLSs
in their scope (their own, their region's, or all). Each row leaves here at the disclosure level
the policy gives the actor for it (`flsdb.services.policy.disclosure`): an FLS's staff see their
own FLSs' rows unsuppressed and every other row as published; region viewers see published
rows; the national team sees every row unsuppressed. A published row with a withheld count has
that count as null and `"suppressed"` saying how it was withheld (`<5`, or `c` for a count
withheld so that another cannot be worked out); every row has the key (null when nothing is
withheld)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pandas as pd

from flsdb.disclosure import is_hidden
from flsdb.errors import ConfigurationError
from flsdb.figures import kpi_records
from flsdb.kpi import parse_period
from flsdb.kpi.results import LEVELS
from flsdb.services.dashboards import DashboardCache, memo, report_data
from flsdb.services.events import record_event
from flsdb.services.live_figures import kpi_figures, level_rows
from flsdb.services.policy import (
    PUBLISHED_GRAIN,
    Actor,
    check,
    check_published_period,
    disclosure,
    scope,
    sees_level_unsuppressed,
)

COUNTS = ("numerator", "denominator", "not_due")


def kpi_rows(
    database_url: str,
    engine: Any,
    actor: Actor,
    period: str,
    by: str,
    as_of: dt.date | None,
    cache: Any = None,
) -> list[dict[str, Any]]:
    """The rows of `flsdb kpis --format json` (with `suppressed`), from the store's maintained
    figures (`services.live_figures`: current as soon as a write commits), or, for a store that
    keeps none, the dashboards' figures; the same counts and disclosure either way, so the API,
    the KPI page and the dashboards agree."""
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
    """(unit, row, row as JSON) for the rows the actor may see; the read is audited.

    Rows the actor sees unsuppressed come from that level's rows alone (`level_rows`: only
    the cells of the level and the FLSs asked for, no disclosure check, current at once);
    published rows from the whole publication (`kpi_figures`)."""
    check(actor, "read_aggregates")
    if by not in LEVELS:
        raise ConfigurationError(f"'{by}' is not a level; use one of {', '.join(LEVELS)}.")
    chosen = parse_period(period)
    as_of = as_of or dt.date.today()
    within = scope(actor, "read_aggregates")
    if by == "service" and within.codes is not None and not within.codes:
        return []
    live = cache.live if cache else None
    if by == "service" and within.codes is not None:
        own = frozenset(u for u in within.codes if disclosure(actor, by, u) == "unsuppressed")
        unsuppressed = own == within.codes
    else:
        own = None
        unsuppressed = sees_level_unsuppressed(actor, by)
    rows = None
    if unsuppressed:
        level = level_rows(engine, chosen.label, as_of, by, own, live)
        if level is not None:
            rows = _level_encoded(level)
            if own is not None:
                rows = [r for r in rows if r[0] in own]
    if rows is None:
        rows = _published_rows(database_url, engine, actor, chosen, by, as_of, cache, within)
    record_event(engine, actor.username, "read_kpis", detail=f"{chosen.label} by {by}")
    return rows


def _level_encoded(level: Any) -> list[tuple[str, dict[str, Any], str]]:
    """A level's rows encoded once per computation (kept with them)."""
    found = level.views.get("encoded")
    if found is None:
        found = level.views["encoded"] = _encoded(level.table, published=False)
    return list(found)


def _published_rows(
    database_url: str,
    engine: Any,
    actor: Actor,
    chosen: Any,
    by: str,
    as_of: dt.date,
    cache: Any,
    within: Any,
) -> list[tuple[str, dict[str, Any], str]]:
    """The rows from the whole publication's figures: each unsuppressed or published as the
    policy gives the actor."""
    live = kpi_figures(engine, chosen.label, as_of, cache.live if cache else None)
    data: Any = live
    if live is not None:
        unsuppressed, published = live.tables[by], live.shown[by]
    else:  # a store without maintained figures: the dashboards' computation
        if cache is None:  # a caller without the server's cache: compute here, and wait
            cache = DashboardCache(wait_seconds=24 * 3600.0)
        data = report_data(cache, database_url, engine, chosen.label, as_of)
        unsuppressed, published = data.unsuppressed[by], data.published[by]
    full = memo("kpi rows", data, by, make=lambda: _encoded(unsuppressed, published=False))
    shown = memo("kpi rows shown", data, by, make=lambda: _published(published))
    rows = []
    withheld = False
    for unit, row, text in full:
        if by == "service" and unit not in within:
            continue
        if disclosure(actor, by, unit) == "unsuppressed":
            rows.append((unit, row, text))
        elif chosen.grain != PUBLISHED_GRAIN:
            withheld = True  # published figures are for whole years only
        else:
            rows.append(shown.get((unit, str(row["kpi"])), (unit, row, text)))
    if withheld and not rows:
        check_published_period(chosen)
    return rows


def published_row(row: dict[str, Any]) -> dict[str, Any]:
    """A published row as the API gives it: withheld counts null, `suppressed` their mark."""
    out = dict(row)
    mark = None
    for key in COUNTS:
        if is_hidden(out.get(key)):
            mark = mark or str(out[key])
            out[key] = None
    out["suppressed"] = mark
    return out


def _published(table: pd.DataFrame) -> dict[tuple[str, str], tuple[str, dict[str, Any], str]]:
    rows = _encoded(table, published=True)
    return {(unit, str(row["kpi"])): (unit, row, text) for unit, row, text in rows}


def _encoded(table: pd.DataFrame, published: bool) -> list[tuple[str, dict[str, Any], str]]:
    found = []
    for r in kpi_records(table):
        row = published_row(r) if published else {**r, "suppressed": None}
        found.append((str(row["unit"]), row, json.dumps(row)))
    return found
