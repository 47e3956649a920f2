"""The JSON API, documented by its OpenAPI schema at /openapi.json: here signing in and out,
the FLSs in scope, the KPIs, the audit log and the pseudonymised extract; records, uploads,
worklists and locks each in a module of their own (`api_records`, `api_uploads`,
`api_worklists`, `api_locks`). Every route takes the actor from `current_actor` and calls
`flsdb.services`, where access is decided."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from flsdb.kpi import parse_period
from flsdb.services import signin
from flsdb.services.access import Actor, authorize, service_filter
from flsdb.services.events import EventFilter, list_events
from flsdb.services.extracts import extract_bytes, extract_for, pseudonym_key
from flsdb.services.kpis import kpi_rows_json
from flsdb.services.policy import decided
from flsdb.services.signin import sign_out
from flsdb.storage.tables import services
from flsdb.web.auth import (
    COOKIE,
    browser_id,
    check_origin,
    client_address,
    session_token,
    set_browser_cookie,
    set_session_cookie,
)
from flsdb.web.common import ActorDep, engine_of

router = APIRouter(prefix="/api", tags=["api"])


class Login(BaseModel):
    username: str = Field(max_length=200)
    password: str = Field(max_length=1000)


class Me(BaseModel):
    username: str
    role: str
    services: list[str]
    region: str | None
    csrf_token: str | None = None


def _me(actor: Actor, csrf: str | None) -> Me:
    return Me(
        username=actor.username,
        role=actor.role.value,
        services=sorted(actor.services),
        region=actor.region,
        csrf_token=csrf,
    )


@router.post("/login", response_model=Me)
@decided("public")
def login(body: Login, request: Request) -> Response:
    """Sign in: a session cookie and the CSRF token for changes. 401 for an unknown user or a
    wrong password alike; 429 once 5 attempts on the name (known or not) were made within 15
    minutes, or too many failed from the address; 503 when too many passwords are being checked
    at once (try again)."""
    check_origin(request)
    settings = request.app.state.settings
    browser = browser_id(request)
    session = signin.sign_in(
        engine_of(request),
        body.username,
        body.password,
        secret=settings.secret_key,
        address=client_address(request),
        browser=browser,
        limits=settings.limits,
    )
    response = JSONResponse(_me(session.actor, session.csrf_token).model_dump())
    set_session_cookie(request, response, session.token)
    set_browser_cookie(request, response, browser)
    return response


@router.post("/logout", status_code=204)
@decided("signed_in")
def logout(request: Request, actor: ActorDep) -> Response:
    token = session_token(request)
    if token:
        sign_out(engine_of(request), token, actor.username)
    response = Response(status_code=204)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/me", response_model=Me)
@decided("signed_in")
def me(request: Request, actor: ActorDep) -> Me:
    return _me(actor, getattr(request.state, "csrf", None))


@router.get("/services")
@decided("signed_in")
def list_services(request: Request, actor: ActorDep) -> list[dict[str, Any]]:
    """The FLSs in the caller's scope."""
    with engine_of(request).connect() as conn:
        rows = conn.execute(
            select(services)
            .where(service_filter(actor, services.c.service_code))
            .order_by(services.c.service_code)
        ).all()
    out = []
    for row in rows:
        item = dict(row._mapping)
        item.pop("created_at", None)
        item.pop("updated_at", None)
        out.append(item)
    return out


@router.get("/kpis", response_model=list[dict[str, Any]])
@decided("read_aggregates")
def kpis(
    request: Request,
    actor: ActorDep,
    period: str = Query(..., max_length=20, examples=["2024", "2024-Q1", "2024-03"]),
    by: str = Query("service", max_length=20),
    as_of: dt.date | None = None,
) -> Response:
    """The objects of `flsdb kpis --format json`; FLS rows only for the FLSs in scope."""
    text = kpi_rows_json(
        request.app.state.settings.database_url,
        engine_of(request),
        actor,
        period,
        by,
        as_of,
        request.app.state.dashboards,
    )
    return Response(text, media_type="application/json")


@router.get("/audit")
@decided("administer")
def audit(
    request: Request,
    actor: ActorDep,
    action: str | None = Query(None, max_length=40),
    user: str | None = Query(None, max_length=64),
    record: int | None = Query(None, ge=1, le=2**31 - 1),
    since: dt.date | None = Query(None, alias="from"),
    until: dt.date | None = Query(None, alias="to"),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=10_000_000),
) -> dict[str, Any]:
    """Logins and failures, reads of patient data, changes, uploads and exports (admin), newest
    first: of one action, user or record, between two days (both included) when asked."""
    authorize(actor, "administer")
    chosen = EventFilter(action or None, user or None, record, since, until)
    rows, total = list_events(engine_of(request), limit=limit, offset=offset, chosen=chosen)
    return {"events": rows, "total": total}


@router.get("/extracts/pseudonymised")
@decided("extract_pseudonymised")
def pseudonymised_extract(
    request: Request,
    actor: ActorDep,
    period: str = Query(..., max_length=20, examples=["2024"]),
    format: str = Query("csv", pattern="^(csv|parquet)$"),
) -> Response:
    """One row per record of the period with a keyed pseudonym and no identifiers (national
    analysts); the key is the server's ($FLSDB_PSEUDONYM_KEY) and never in the extract."""
    authorize(actor, "extract_pseudonymised")
    frame = extract_for(
        request.app.state.settings.database_url,
        engine_of(request),
        actor,
        period,
        pseudonym_key(),
    )
    content, media = extract_bytes(frame, format)

    # The file name from the period as parsed (its label), never the text as sent.
    name = f"flsdb-pseudonymised-{parse_period(period).label}.{format}"
    return Response(
        content,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
