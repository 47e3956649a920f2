"""The parts of a dashboard fetched on their own: a chart's specification (drawn when it comes
into view), a table as CSV or XLSX, and the patients behind a KPI's count (an FLS's staff).

Each part is decided as its page is: the dashboard's scope (`check_service`, `check_region`),
the viewer's disclosure level (`policy.disclosure`), whole years for published figures; the
patients as the records API reads them (`read_patients`, `access.patient_filter`)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from flsdb.errors import ConfigurationError, NotFound
from flsdb.figures import PeriodFigures
from flsdb.services import units
from flsdb.services.access import Actor
from flsdb.services.events import record_event
from flsdb.services.kpi_patients import STATUS_WORDS, patients
from flsdb.services.policy import (
    check_published_period,
    decided,
    disclosure,
    sees_level_unsuppressed,
)
from flsdb.web import dashboard_tables as tables
from flsdb.web.common import ActorDep, engine_of, render
from flsdb.web.dashboard_bodies import benchmark_rows, fls_body, group_body
from flsdb.web.period_figures import period_and_date, period_figures

router = APIRouter(include_in_schema=False)
Code = Annotated[str, Path(max_length=12)]
Part = Annotated[str, Path(max_length=40)]
LEVELS = ("fls", "region", "nation")


async def _body(
    request: Request, actor: Actor, level: str, unit: str
) -> tuple[PeriodFigures, dict[str, Any]]:
    """The figures and the dashboard body of `level`/`unit`, at the viewer's disclosure level
    (NotFound outside the viewer's scope, as the page)."""
    code = unit.upper()
    if level == "fls":
        units.check_service(actor, engine_of(request), code)
        published = disclosure(actor, "service", code) == "published"
    elif level == "region":
        units.check_region(actor, engine_of(request), code)
        published = disclosure(actor, "region", code) == "published"
    elif level == "nation" and code == "ALL":
        code = "all"
        published = disclosure(actor, "nation", code) == "published"
    else:
        raise NotFound("There is no such dashboard.")
    period, as_of, error = period_and_date(request)
    if error:
        raise ConfigurationError(error)
    if published:
        check_published_period(period)
    data = await period_figures(request, period, as_of)
    if level == "fls":
        if code not in set(data.services["service_code"]):
            raise NotFound(f"{code} has no figures for {period} yet.")
        return data, fls_body(data, code, published, sees_level_unsuppressed(actor, "region"))
    body = group_body(data, level, code, published)
    in_full = None if not published else frozenset(actor.patient_services)
    kpis, rows = benchmark_rows(data, body["codes"], in_full)
    names = {k: data.name(k) for k in {*kpis, *(k for k, _ in body["headline"])}}
    return data, {**body, "kpis": kpis, "rows": rows, "names": names}


@router.get("/charts/{level}/{unit}/{chart}")
@decided("read_aggregates")
async def chart_spec(
    actor: ActorDep, level: str, unit: Code, chart: Part, request: Request
) -> JSONResponse:
    """One chart's Vega-Lite specification, as its dashboard draws it."""
    _, body = await _body(request, actor, level, unit)
    spec = body["charts"].get(chart)
    if spec is None:
        raise NotFound("There is no such chart.")
    return JSONResponse(spec)


@router.get("/tables/{level}/{unit}/{table}.{fmt}")
@decided("read_aggregates")
async def table_download(
    actor: ActorDep, level: str, unit: Code, table: Part, fmt: str, request: Request
) -> Any:
    """A dashboard table as CSV or XLSX, with the values the page shows this viewer."""
    if level not in LEVELS or fmt not in tables.FORMATS:
        raise NotFound("There is no such download.")
    known = tables.FLS_TABLES if level == "fls" else tables.GROUP_TABLES
    if table not in known:
        raise NotFound("There is no such table.")
    data, body = await _body(request, actor, level, unit)
    found = known[table](body)
    name = f"{unit.lower()}-{table}-{data.period.label}"

    def make() -> bytes:
        return tables.as_csv(found) if fmt == "csv" else tables.as_xlsx(found, table)

    content = await run_in_threadpool(make)
    record_event(
        engine_of(request),
        actor.username,
        "export_report",
        service_code=unit.upper() if level == "fls" else None,
        detail=f"{name}.{fmt}",
    )
    return Response(
        content,
        media_type=tables.FORMATS[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'},
    )


def _uk(value: Any) -> str:
    """A date as a person in the UK reads it: 6 Dec 2026."""
    if value is None or value == "":
        return ""
    day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
    return f"{day.day} {day:%b %Y}"


@router.get("/fls/{service_code}/patients")
@decided("read_patients")
async def kpi_patients(actor: ActorDep, service_code: Code, request: Request) -> HTMLResponse:
    """The FLS's patients behind a KPI's 'not met' or 'not yet due' count, for its staff."""
    code = service_code.upper()
    period, as_of, error = period_and_date(request)
    if error:
        raise ConfigurationError(error)
    kpi = request.query_params.get("kpi", "")[:12]
    status: Any = request.query_params.get("status", "")[:12]
    found = await run_in_threadpool(
        patients, engine_of(request), actor, code, kpi, status, period, as_of
    )
    rows = [
        {
            **r,
            "fracture": _uk(r["date_fracture_diagnosed"]),
            "assessed": _uk(r.get("date_fls_assessment")),
        }
        for r in found.rows
    ]

    return render(
        request,
        "dashboard_patients.html",
        code=code,
        unit_name=units.service_names(engine_of(request), code)["unit_name"],
        found=found,
        rows=rows,
        words=STATUS_WORDS[found.status],
        period=period,
        as_of=_uk(as_of),
        back=f"/fls/{code}?period={period}&as_of={as_of.isoformat()}",
    )
