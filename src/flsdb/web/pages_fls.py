"""An FLS's own pages: its dashboard and periods (its worklist is in pages_worklist)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from flsdb.errors import FlsdbError, Forbidden, NotFound
from flsdb.figures import PeriodFigures
from flsdb.services import dashboards, locks, report_files, units
from flsdb.services.policy import (
    can,
    check,
    check_published_period,
    decided,
    disclosure,
    sees_level_unsuppressed,
)
from flsdb.web import dashboards as views
from flsdb.web.common import ActorDep, engine_of, render
from flsdb.web.dashboard_bodies import benchmark_rows, fls_body, group_body
from flsdb.web.own_rows import own_rows_now
from flsdb.web.period_figures import note_own_rows_current, period_and_date, period_figures

router = APIRouter(include_in_schema=False)
ServiceCode = Annotated[str, Path(max_length=12)]


def _locks_page(
    request: Request,
    actor: Any,
    status: int = 200,
    message: str | None = None,
    error: str | None = None,
    **extra: Any,
) -> HTMLResponse:
    return render(
        request,
        "locks.html",
        status,
        locks=locks.list_locks(engine_of(request), actor),
        message=message,
        error=error,
        services=sorted(actor.services),
        **extra,
    )


@router.get("/locks")
@decided("signed_in")
async def locks_page(actor: ActorDep, request: Request) -> HTMLResponse:
    return _locks_page(request, actor)


@router.post("/locks")
@decided("sign_off", "lock_year", "lift_lock")
async def locks_change(actor: ActorDep, request: Request) -> HTMLResponse:
    """Sign off or lock in two steps (what will be closed, then the confirmation); lift with a
    reason (asked for first)."""
    form = await request.form()
    action = str(form.get("action", ""))
    confirmed = str(form.get("confirm", "")) == "yes"
    period = str(form.get("period", ""))[:20]
    note = str(form.get("note", ""))[:500]
    engine = engine_of(request)
    lock_id = 0
    try:
        if action in ("sign_off", "lock"):
            service = str(form.get("service", "")).upper()[:12] if action == "sign_off" else None
            if not confirmed:
                pending = locks.preview(engine, actor, service or None, period)
                return _locks_page(request, actor, pending=pending, note=note)
            if service:
                done = locks.sign_off(engine, actor, service, period, note)
                message = f"{done['service']} signed off {done['period']}."
            else:
                done = locks.lock_year(engine, actor, period, note)
                message = f"{done['period']} is locked."
        elif action == "lift":
            text = str(form.get("lock_id", ""))
            lock_id = int(text) if text.isdigit() and len(text) < 10 else 0
            if not confirmed:
                check(actor, "lift_lock")
                found = [k for k in locks.list_locks(engine, actor) if k["id"] == lock_id]
                if not found or found[0]["lifted_at"]:
                    return _locks_page(request, actor, 404, error="There is no such lock in force.")
                return _locks_page(request, actor, lifting=found[0])
            done = locks.lift(engine, actor, lock_id, str(form.get("reason", "")))
            message = f"The {done['kind'].replace('_', '-')} of {done['period']} is lifted."
        else:
            return _locks_page(request, actor, 422, error="Choose what to do.")
    except FlsdbError as exc:
        extra: dict[str, Any] = {}
        if action == "lift" and confirmed:  # asked again for the reason
            found = [k for k in locks.list_locks(engine, actor) if k["id"] == lock_id]
            extra = {"lifting": found[0]} if found and not found[0]["lifted_at"] else {}
        return _locks_page(request, actor, exc.status, error=str(exc), **extra)
    return _locks_page(request, actor, message=message)


@router.get("/fls/{service_code}")
@decided("read_aggregates")
async def fls_dashboard(
    actor: ActorDep, service_code: ServiceCode, request: Request
) -> HTMLResponse:
    code = service_code.upper()
    units.check_service(actor, engine_of(request), code)
    # The figures leave at the viewer's disclosure level: its staff and the national team see
    # the FLS in full, a region viewer as published.
    published = disclosure(actor, "service", code) == "published"
    # The national team sees every unit in full: the comparators too, so nothing on its page
    # is as published while the page says it is in full.
    full = sees_level_unsuppressed(actor, "region")
    period, as_of, error = period_and_date(request)
    if error:
        return render(request, "error.html", 422, title="Refused", message=error, code=422)
    if published:
        check_published_period(period)
    data = await period_figures(request, period, as_of)
    if not units.has_records(engine_of(request), code) or code not in set(
        data.services["service_code"]
    ):
        # A newly loaded FLS (or figures computed before it was loaded): nothing to chart yet.
        return render(
            request,
            "dashboard_fls.html",
            code=code,
            period=period,
            as_of=as_of,
            empty=True,
            upload=None,
            body="",
            records=0,
            **units.service_names(engine_of(request), code),
        )
    # Figures a computation behind (records changed since): the FLS's own KPI rows as they are
    # now, for those who see them in full; its charts and comparators follow at the next one.
    shown = data
    if getattr(request.state, "stale", None) and not published:
        now = await run_in_threadpool(own_rows_now, request, data, code)
        if now is not None:
            shown = now
            note_own_rows_current(request)
    head = views.memo(
        "fls head", shown, code, published, make=lambda: _fls_head(shown, code, published)
    )

    # The links a viewer can follow: the FLS's patients for its staff (policy.can decides).
    patients = can(actor, "read_patients", code)

    def body() -> dict[str, Any]:
        body = fls_body(data, code, published, full)
        return {**body, "patients": patients, "period_label": period}

    def page_body() -> Markup:
        """The body as computed, around the KPI table from the rows shown (the current ones,
        when the rest is a computation behind): a save that moves an own KPI makes the table
        again, not the charts and tables around it."""
        around = views.html_around(
            "_dashboard_fls_body.html",
            data,
            code,
            published,
            full,
            patients,
            period,
            context=body,
            hole="kpi_table",
        )

        def kpis() -> dict[str, Any]:
            return {**body(), "kpis": views.kpi_table(shown, code, published, full)}

        name = "_dashboard_fls_kpis.html"
        table = views.html(name, shown, code, published, full, patients, context=kpis)
        return Markup(around[0] + table + around[1])

    return render(
        request,
        "dashboard_fls.html",
        code=code,
        period=period,
        as_of=as_of,
        upload=dashboards.upload_notice(
            actor, dashboards.last_upload(engine_of(request), code, request.app.state.dashboards)
        ),
        published=published,
        full=full,
        patients=patients,
        body=views.memo(
            "fls page body", shown, code, published, full, patients, period, make=page_body
        ),
        **head,
    )


def _fls_head(data: PeriodFigures, code: str, published: bool) -> dict[str, Any]:
    """The FLS's names and record count, once per computation of the figures."""
    info = data.service_info(code)
    region = str(info["region_code"])
    return {
        "unit_name": data.unit_name("service", code),
        "region": region,
        "region_name": data.unit_name("region", region),
        "nation": str(info["nation"]),
        "nation_name": data.unit_name("nation", str(info["nation"])),
        "records": views.kpi_row(data, "service", code, "kpi03", published=published)["denominator"]
        or 0,
    }


async def _group(request: Request, level: str, unit: str) -> HTMLResponse:
    period, as_of, error = period_and_date(request)
    if error:
        return render(request, "error.html", 422, title="Refused", message=error, code=422)
    data = await period_figures(request, period, as_of)
    actor = request.state.actor
    # The figures at the viewer's disclosure level: the national team sees them in full, an
    # FLS's staff their own FLSs' rows, everyone else as published.
    published = disclosure(actor, level, unit) == "published"
    if published:
        check_published_period(period)
    in_full = None if not published else frozenset(actor.patient_services)
    found = group_body(data, level, unit, published)
    # An FLS's name links to its dashboard only for a viewer who may open it (policy.can).
    linked = frozenset(c for c in found["codes"] if can(actor, "read_aggregates", c))

    def body() -> dict[str, Any]:
        kpis, rows = benchmark_rows(data, found["codes"], in_full)
        names = {k: data.name(k) for k in {*kpis, *(k for k, _ in found["headline"])}}
        return {**found, "kpis": kpis, "rows": rows, "linked": linked, "names": names}

    return render(
        request,
        "dashboard_group.html",
        level=level,
        unit=unit,
        in_full=in_full,
        unit_name=views.memo("name", data, level, unit, make=lambda: data.unit_name(level, unit)),
        period=period,
        as_of=as_of,
        body=views.html(
            "_dashboard_group_body.html", data, level, unit, linked, in_full, context=body
        ),
    )


@router.get("/region/{region_code}")
@decided("read_aggregates")
async def region_dashboard(
    actor: ActorDep, region_code: ServiceCode, request: Request
) -> HTMLResponse:
    code = region_code.upper()
    units.check_region(actor, engine_of(request), code)
    return await _group(request, "region", code)


@router.get("/nation")
@decided("read_aggregates")
async def nation_dashboard(actor: ActorDep, request: Request) -> HTMLResponse:
    return await _group(request, "nation", "all")


@router.get("/download/{kind}/{unit}.{fmt}")
@decided("read_aggregates")
async def download(
    actor: ActorDep, kind: str, unit: ServiceCode, fmt: str, request: Request
) -> Any:
    """The command line's outputs for a dashboard's scope, made on demand by the same use case
    (`services.report_files`): the FLS or region report (HTML or PDF) and the national report,
    as published; the benchmark table (CSV)."""
    code = unit.upper()
    if kind == "fls":
        units.check_service(actor, engine_of(request), code)
        if disclosure(actor, "service", code) == "published":
            raise Forbidden(
                "The FLS report shows its figures in full, for its staff and the national "
                "team; the region's report has them as published."
            )
    elif kind == "region":
        units.check_region(actor, engine_of(request), code)
    report_files.check_download(kind, code, fmt)
    period, as_of, error = period_and_date(request)
    if error:
        return render(request, "error.html", 422, title="Refused", message=error, code=422)
    if kind != "fls" and actor.role.value not in ("national_analyst", "admin"):
        check_published_period(period)  # the published reports: whole years
    data = await run_in_threadpool(
        report_files.figures_from_store,
        request.app.state.settings.database_url,
        period,
        as_of,
    )
    if kind == "fls" and (
        not units.has_records(engine_of(request), code)
        or code not in set(data.services["service_code"])
    ):
        raise NotFound(f"{code} has no records yet, so there is no report to download.")
    content, name = await run_in_threadpool(
        report_files.download, engine_of(request), actor, data, kind, code, fmt
    )
    return Response(
        content,
        media_type=report_files.MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
