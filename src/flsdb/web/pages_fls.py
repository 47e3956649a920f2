"""An FLS's own pages: its dashboard and periods (its worklist is in pages_worklist)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse

from flsdb.services.policy import can, check_published_period, decided, disclosure
from flsdb.web.auth import current_actor
from flsdb.web.pages import _engine, _render

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
    from flsdb.services import locks

    return _render(
        request,
        "locks.html",
        status,
        locks=locks.list_locks(_engine(request), actor),
        message=message,
        error=error,
        services=sorted(actor.services),
        **extra,
    )


@router.get("/locks")
@decided("signed_in")
async def locks_page(request: Request) -> HTMLResponse:
    actor = await current_actor(request)
    return _locks_page(request, actor)


@router.post("/locks")
@decided("sign_off", "lock_year", "lift_lock")
async def locks_change(request: Request) -> HTMLResponse:
    """Sign off or lock in two steps (what will be closed, then the confirmation); lift with a
    reason (asked for first)."""
    from flsdb.errors import FlsdbError
    from flsdb.services import locks

    actor = await current_actor(request)
    form = await request.form()
    action = str(form.get("action", ""))
    confirmed = str(form.get("confirm", "")) == "yes"
    period = str(form.get("period", ""))[:20]
    note = str(form.get("note", ""))[:500]
    engine = _engine(request)
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
                from flsdb.services.policy import check

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
        from flsdb.web.app import _status

        extra: dict[str, Any] = {}
        if action == "lift" and confirmed:  # asked again for the reason
            found = [k for k in locks.list_locks(engine, actor) if k["id"] == lock_id]
            extra = {"lifting": found[0]} if found and not found[0]["lifted_at"] else {}
        return _locks_page(request, actor, _status(exc), error=str(exc), **extra)
    return _locks_page(request, actor, message=message)


def _period_and_date(request: Request) -> tuple[str, dt.date, str | None]:
    from flsdb.web.pages_admin import _kpi_context

    period = request.query_params.get("period")
    if period is None:  # the latest year with records (a scan of the records: only when asked)
        years = _kpi_context(request)["years"]
        period = years[0] if years else str(dt.date.today().year - 1)
    period = period[:20]
    text = request.query_params.get("as_of", "")[:10]
    try:
        as_of = dt.date.fromisoformat(text) if text else dt.date.today()
    except ValueError:
        return period, dt.date.today(), f"'{text}' is not a date: use YYYY-MM-DD."
    return period, as_of, None


async def _data(request: Request, period: str, as_of: dt.date) -> Any:
    """The figures; a page that shows them says when they were computed if records changed
    since (they refresh at most every `refresh_seconds` while edits keep coming)."""
    from starlette.concurrency import run_in_threadpool

    from flsdb.services.dashboards import figures

    found = await run_in_threadpool(
        figures,
        request.app.state.dashboards,
        request.app.state.settings.database_url,
        _engine(request),
        period,
        as_of,
    )
    if found.stale:
        when = dt.datetime.fromtimestamp(found.computed_at).strftime("%H:%M:%S")
        start = (
            f"The KPI values are current; the charts were computed at {when}: records "
            "changed since. New figures are "
            if found.counts_current
            else f"These figures were computed at {when}; records changed since. New figures are "
        )
        request.state.stale = (
            f"{start}computed at most every "
            f"{request.app.state.dashboards.refresh_seconds:.0f} seconds while records change, "
            "and take a little while: reload the page to see them."
        )
    if found.refresh_failed:
        request.state.stale = (
            f"{getattr(request.state, 'stale', '')} The last computation of new figures "
            "failed (the server log says why); these are the figures computed before."
        ).strip()
    return found.data


@router.get("/fls/{service_code}")
@decided("read_aggregates")
async def fls_dashboard(service_code: ServiceCode, request: Request) -> HTMLResponse:
    from flsdb.services import dashboards
    from flsdb.web import dashboards as views

    actor = await current_actor(request)
    code = service_code.upper()
    dashboards.check_service(actor, _engine(request), code)
    # The figures leave at the viewer's disclosure level: its staff and the national team see
    # the FLS in full, a region viewer as published.
    published = disclosure(actor, "service", code) == "published"
    period, as_of, error = _period_and_date(request)
    if error:
        return _render(request, "error.html", 422, title="Refused", message=error, code=422)
    if published:
        check_published_period(period)
    data = await _data(request, period, as_of)
    if not dashboards.has_records(_engine(request), code) or code not in set(
        data.services["service_code"]
    ):
        # A newly loaded FLS (or figures computed before it was loaded): nothing to chart yet.
        return _render(
            request,
            "dashboard_fls.html",
            code=code,
            period=period,
            as_of=as_of,
            empty=True,
            upload=None,
            body="",
            records=0,
            **dashboards.service_names(_engine(request), code),
        )
    head = views.memo(
        "fls head", data, code, published, make=lambda: _fls_head(data, code, published)
    )

    # The links a viewer can follow: the FLS's patients for its staff (policy.can decides).
    patients = can(actor, "read_patients", code)

    def body() -> dict[str, Any]:
        from flsdb.web.dashboard_bodies import fls_body

        return {**fls_body(data, code, published), "patients": patients, "period_label": period}

    return _render(
        request,
        "dashboard_fls.html",
        code=code,
        period=period,
        as_of=as_of,
        upload=dashboards.upload_notice(
            actor, dashboards.last_upload(_engine(request), code, request.app.state.dashboards)
        ),
        published=published,
        patients=patients,
        body=views.html("_dashboard_fls_body.html", data, code, published, patients, context=body),
        **head,
    )


def _fls_head(data: Any, code: str, published: bool) -> dict[str, Any]:
    """The FLS's names and record count, once per computation of the figures."""
    from flsdb.web import dashboards as views

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
    from flsdb.web import dashboards as views
    from flsdb.web.dashboard_bodies import benchmark_rows, group_body

    period, as_of, error = _period_and_date(request)
    if error:
        return _render(request, "error.html", 422, title="Refused", message=error, code=422)
    data = await _data(request, period, as_of)
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

    return _render(
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
async def region_dashboard(region_code: ServiceCode, request: Request) -> HTMLResponse:
    from flsdb.services import dashboards

    actor = await current_actor(request)
    code = region_code.upper()
    dashboards.check_region(actor, _engine(request), code)
    return await _group(request, "region", code)


@router.get("/nation")
@decided("read_aggregates")
async def nation_dashboard(request: Request) -> HTMLResponse:
    await current_actor(request)
    return await _group(request, "nation", "all")


@router.get("/download/{kind}/{unit}.{fmt}")
@decided("read_aggregates")
async def download(kind: str, unit: ServiceCode, fmt: str, request: Request) -> Any:
    """The command line's outputs for a dashboard's scope, made on demand: the FLS or region
    report (HTML or PDF) and the national report, as published; the benchmark table (CSV)."""
    import tempfile
    from pathlib import Path as FilePath

    from fastapi.responses import Response
    from starlette.concurrency import run_in_threadpool

    from flsdb.errors import NotFound
    from flsdb.services import dashboards

    actor = await current_actor(request)
    code = unit.upper()
    if kind == "fls":
        dashboards.check_service(actor, _engine(request), code)
        if disclosure(actor, "service", code) == "published":
            from flsdb.errors import Forbidden

            raise Forbidden(
                "The FLS report shows its figures in full, for its staff and the national "
                "team; the region's report has them as published."
            )
    elif kind == "region":
        dashboards.check_region(actor, _engine(request), code)
    elif kind not in ("national", "benchmark") or code != "ALL":
        raise NotFound("There is no such download.")
    if fmt not in ("html", "pdf", "csv") or (fmt == "csv") != (kind == "benchmark"):
        raise NotFound("There is no such download.")
    period, as_of, error = _period_and_date(request)
    if error:
        return _render(request, "error.html", 422, title="Refused", message=error, code=422)
    if kind != "fls" and actor.role.value not in ("national_analyst", "admin"):
        check_published_period(period)  # the published reports: whole years
    data = await _data(request, period, as_of)
    # What leaves as a file passes the intruder's audit first, as `flsdb report`'s files do.
    data = await run_in_threadpool(dashboards.audited_data, data)
    if kind == "fls" and (
        not dashboards.has_records(_engine(request), code)
        or code not in set(data.services["service_code"])
    ):
        raise NotFound(f"{code} has no records yet, so there is no report to download.")

    def make() -> tuple[bytes, str]:
        with tempfile.TemporaryDirectory(prefix="flsdb-download-") as folder:
            out = FilePath(folder)
            (out / "fls").mkdir()
            (out / "regions").mkdir()
            if kind == "benchmark":
                from flsdb.reports.benchmark import benchmark_frame
                from flsdb.sheets import csv_frame

                text = csv_frame(benchmark_frame(data)).to_csv(index=False)
                return text.encode(), f"benchmark-fls-{data.period.label}.csv"
            if kind == "fls":
                from flsdb.reports.fls import fls_report

                paths = fls_report(data, code, out, (fmt,))
            elif kind == "region":
                from flsdb.reports.region import region_report

                paths = region_report(data, code, out, (fmt,))
            else:
                from flsdb.reports.national import national_report

                paths = national_report(data, out, (fmt,))
            path = paths[0]
            return path.read_bytes(), path.name

    content, name = await run_in_threadpool(make)
    from flsdb.services.events import record_event

    record_event(
        _engine(request),
        actor.username,
        "export_report",
        service_code=code if kind == "fls" else None,
        detail=name,
    )
    media = {"html": "text/html", "pdf": "application/pdf", "csv": "text/csv"}[fmt]
    return Response(
        content, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
