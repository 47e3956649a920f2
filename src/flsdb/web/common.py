"""What every page and API route shares: the database engine, the signed-in actor as a
dependency, the templates and their context, the error pages, and the one mapping from flsdb's
errors to pages (each error class carries its HTTP status, `status`, read by the application's
one handler, flsdb.web.app)."""

from __future__ import annotations

import datetime as dt
import re
from importlib import resources
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from flsdb.errors import ValidationFailed
from flsdb.kpi import load_catalogue
from flsdb.services import accounts
from flsdb.services.access import Actor, Role
from flsdb.storage.tables import records, services
from flsdb.web.auth import current_actor
from flsdb.web.dates import typed_date, uk_date, uk_dates_in

# The signed-in actor, for a route's parameters (Unauthenticated, 401, when nobody is).
ActorDep = Annotated[Actor, Depends(current_actor)]
# A record id in a page's address; anything else is "no such page".
PageRecordId = Annotated[int, Path(ge=1, le=2**31 - 1)]
templates = Jinja2Templates(directory=str(resources.files("flsdb.web").joinpath("templates")))
_CAPITALS = re.compile(r"\b(hrt|gp|dxa|fls|icb|nhs)\b")
TITLES = {
    403: "Not allowed",
    404: "Not found",
    409: "Changed meanwhile",
    423: "Period locked",
    413: "Too large",
    429: "Locked",
    500: "Server error",
    503: "Database unavailable",
}


def words(code: object) -> str:
    """A code as words: not_known -> not known, referred_to_gp -> referred to GP."""
    return _CAPITALS.sub(lambda m: m.group(1).upper(), str(code).replace("_", " "))


def when(stamp: object) -> str:
    """An ISO timestamp as a person reads it (the server's clock, to the minute)."""
    try:
        moment = dt.datetime.fromisoformat(str(stamp))
    except ValueError:
        return str(stamp)
    return f"{uk_date(moment)} {moment:%H:%M}"


def shown(value: object) -> str:
    """A stored value as a person reads it: 'blank', a UK date (6 Dec 2026) or words."""
    if value is None or value == "":
        return "blank"
    text = str(value)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return uk_date(text)
    return words(text)


templates.env.filters["words"] = words
templates.env.filters["when"] = when
templates.env.filters["shown"] = shown
templates.env.filters["ukdate"] = uk_date
templates.env.filters["typed_date"] = typed_date
templates.env.filters["ukdates_in"] = uk_dates_in


def issue_list(exc: ValidationFailed) -> list[dict[str, Any]]:
    """A validation failure's issues, each as its level, row, column, value and message."""
    return [
        {"level": i.level, "row": i.row, "column": i.column, "value": i.value, "message": i.message}
        for i in exc.issues.issues()
    ]


def engine_of(request: Request) -> Engine:
    """The application's database engine."""
    engine: Engine = request.app.state.engine
    return engine


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page from its template, with what every page shows: who is signed in, the form
    token, a note that the figures are older than the records, and the session's time left."""
    context.setdefault("actor", getattr(request.state, "actor", None))
    context.setdefault("csrf", getattr(request.state, "csrf", ""))
    context.setdefault("stale", getattr(request.state, "stale", None))
    ends = getattr(request.state, "session_ends", None)
    if ends is not None and "session_seconds" not in context:
        context["session_seconds"] = max(0, int((ends - accounts.now()).total_seconds()))
    return templates.TemplateResponse(request, name, context, status_code=status)


def pending_page(request: Request, message: str, seconds: int) -> HTMLResponse:
    """Figures being computed: the page says so and reloads itself (no script needed)."""
    response = render(
        request, "error.html", 503, title="Figures being computed", message=message, refresh=seconds
    )
    response.headers["Retry-After"] = str(seconds)
    return response


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    return render(
        request,
        "error.html",
        status,
        title=TITLES.get(status, "Refused"),
        message=message,
        code=status,
    )


def home_of(actor: Actor) -> str:
    """Where a role starts: FLS staff at their records, administrators at the accounts, the
    others at the KPIs."""
    return {Role.FLS_STAFF: "/records", Role.ADMIN: "/admin/users"}.get(actor.role, "/kpis")


def service_names(conn: Any) -> list[Any]:
    """Each FLS's code and name with its region's, by code."""
    return list(
        conn.execute(
            select(
                services.c.service_code,
                services.c.service_name,
                services.c.region_code,
                services.c.region_name,
            ).order_by(services.c.service_code)
        ).all()
    )


def kpi_context(request: Request) -> dict[str, Any]:
    """KPI names, unit names and the years that hold records, for the KPI pages."""
    names: dict[str, str] = {}
    for measure in load_catalogue().measures:
        names[measure.id] = measure.name
        for part, spec in measure.parts.items():
            names[part] = spec.name
    with engine_of(request).connect() as conn:
        rows = service_names(conn)
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
