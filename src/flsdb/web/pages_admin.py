"""Pages for administrators (users, services, the audit log) and the KPI table for everyone."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from flsdb.errors import FlsdbError
from flsdb.services import accounts
from flsdb.services.access import ROLE_WORDS, authorize
from flsdb.services.policy import decided
from flsdb.web.auth import current_actor
from flsdb.web.pages import _engine, _render

router = APIRouter(include_in_schema=False)


def _users_page(
    request: Request, status: int = 200, message: str | None = None, error: str | None = None
) -> HTMLResponse:
    from sqlalchemy import select

    from flsdb.storage.tables import services

    with _engine(request).connect() as conn:
        codes = list(
            conn.execute(
                select(services.c.service_code).order_by(services.c.service_code)
            ).scalars()
        )
        regions = sorted(set(conn.execute(select(services.c.region_code)).scalars()))
    return _render(
        request,
        "admin_users.html",
        status,
        users=accounts.list_users(_engine(request)),
        roles=ROLE_WORDS,
        service_codes=codes,
        regions=regions,
        message=message,
        error=error,
    )


@router.get("/admin/users")
@decided("administer")
async def users_page(request: Request) -> HTMLResponse:
    actor = await current_actor(request)
    authorize(actor, "administer")
    return _users_page(request)


@router.post("/admin/users")
@decided("administer")
async def add_user(request: Request) -> HTMLResponse:
    actor = await current_actor(request)
    authorize(actor, "administer")
    form = await request.form()
    try:
        accounts.add_user(
            _engine(request),
            str(form.get("username", "")),
            accounts.parse_role(str(form.get("role", ""))),
            str(form.get("password", "")),
            service_codes=[str(v) for v in form.getlist("services")],
            region=str(form.get("region") or "") or None,
            by=actor.username,
        )
    except FlsdbError as exc:
        return _users_page(request, 422, error=str(exc))
    return _users_page(
        request, message=f"User {str(form.get('username', '')).strip().lower()} added."
    )


@router.post("/admin/users/{username}/{action}")
@decided("administer")
async def change_user(username: str, action: str, request: Request) -> Response:
    actor = await current_actor(request)
    authorize(actor, "administer")
    form = await request.form()
    engine = _engine(request)
    if action == "disable" and username.strip().lower() == actor.username:
        return _users_page(request, 422, error="You cannot disable your own account.")
    try:
        if action in ("disable", "enable"):
            accounts.set_disabled(engine, username, action == "disable", by=actor.username)
        elif action == "password":
            accounts.reset_password(
                engine, username, str(form.get("password", "")), by=actor.username
            )
        else:
            return _users_page(request, 404, error="There is no such action.")
    except FlsdbError as exc:
        return _users_page(request, 422, error=str(exc))
    return _users_page(request, message=f"User {username}: {action} done.")


@router.get("/admin/services")
@decided("administer")
async def services_page(request: Request) -> HTMLResponse:
    from sqlalchemy import func, select

    from flsdb.storage.tables import records, services

    actor = await current_actor(request)
    authorize(actor, "administer")
    with _engine(request).connect() as conn:
        counts = dict(
            conn.execute(
                select(records.c.service_code, func.count()).group_by(records.c.service_code)
            ).all()
        )
        rows = [
            dict(r._mapping)
            for r in conn.execute(select(services).order_by(services.c.service_code))
        ]
    return _render(request, "admin_services.html", services=rows, counts=counts)


@router.get("/admin/audit")
@decided("administer")
async def audit_page(request: Request) -> HTMLResponse:
    from flsdb.services.events import list_events

    actor = await current_actor(request)
    authorize(actor, "administer")
    text = request.query_params.get("page", "1")
    page = min(max(int(text), 1), 100_000) if text.isdigit() and len(text) < 7 else 1
    action = (request.query_params.get("action") or "")[:40] or None
    rows, total = list_events(
        _engine(request), action=action, limit=100, offset=(max(page, 1) - 1) * 100
    )
    return _render(
        request, "audit.html", events=rows, total=total, page=max(page, 1), action=action or ""
    )


def _kpi_context(request: Request) -> dict[str, Any]:
    """KPI names, unit names and the years that hold records, for the KPI page."""
    from sqlalchemy import func, select

    from flsdb.kpi import load_catalogue
    from flsdb.storage.tables import records, services

    names: dict[str, str] = {}
    for measure in load_catalogue().measures:
        names[measure.id] = measure.name
        for part, spec in measure.parts.items():
            names[part] = spec.name
    with _engine(request).connect() as conn:
        rows = conn.execute(
            select(
                services.c.service_code,
                services.c.service_name,
                services.c.region_code,
                services.c.region_name,
            )
        ).all()
        first, last = conn.execute(
            select(
                func.min(records.c.date_fracture_diagnosed),
                func.max(records.c.date_fracture_diagnosed),
            )
        ).one()
    units = {"england": "England", "wales": "Wales", "all": "England and Wales"}
    for code, name, region, region_name in rows:
        units[code] = name
        units[region] = region_name
    years = list(range(last.year, first.year - 1, -1)) if first and last else []
    if isinstance(first, str):  # SQLite through a plain query keeps dates as text
        years = list(range(int(str(last)[:4]), int(str(first)[:4]) - 1, -1))
    return {"names": names, "units": units, "years": [str(y) for y in years]}


@router.get("/kpis")
@decided("read_aggregates")
async def kpi_page(request: Request) -> HTMLResponse:
    from flsdb.services.kpis import kpi_rows

    actor = await current_actor(request)
    context = _kpi_context(request)
    default = context["years"][0] if context["years"] else str(dt.date.today().year - 1)
    period = request.query_params.get("period", default)[:20]
    by = request.query_params.get("by", "service")
    by = by if by in ("service", "region", "nation") else "service"
    rows: list[dict[str, Any]] = []
    error = None
    try:
        from starlette.concurrency import run_in_threadpool

        rows = await run_in_threadpool(
            kpi_rows,
            request.app.state.settings.database_url,
            _engine(request),
            actor,
            period,
            by,
            None,
            request.app.state.dashboards,
        )
    except FlsdbError as exc:
        error = str(exc)
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(str(row["unit"]), []).append(row)
    return _render(
        request, "kpis.html", grouped=grouped, period=period, by=by, error=error, **context
    )


@router.get("/healthz", include_in_schema=False)
@decided("public")
def health() -> dict[str, str]:
    return {"status": "ok"}
