"""Pages for administrators: users (add, change role and FLSs, unlock, a new password, disable
and enable after a confirmation); and the KPI table for everyone."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from flsdb.errors import FlsdbError, NotFound
from flsdb.services import accounts
from flsdb.services.access import ROLE_WORDS, authorize
from flsdb.services.kpis import kpi_rows
from flsdb.services.policy import decided
from flsdb.web.common import ActorDep, engine_of, kpi_context, render, service_names

router = APIRouter(include_in_schema=False)
# What the user pages do to an account, in words (the confirmation and the notice say them).
CONFIRMED = {
    "disable": (
        "Disable",
        "They can no longer sign in; their sessions end now and their API tokens are revoked. "
        "Enabling the account later brings back none of the tokens.",
    ),
    "enable": ("Enable", "They can sign in again with their password."),
}


def _choices(request: Request) -> dict[str, Any]:
    """The FLSs (code and name, by code) and regions (code and name) a form offers, and roles."""

    with engine_of(request).connect() as conn:
        rows = service_names(conn)
    regions = sorted({(r.region_code, r.region_name) for r in rows})
    return {
        "fls_choices": [(r.service_code, r.service_name) for r in rows],
        "region_choices": regions,
        "roles": ROLE_WORDS,
        "role_names": {r.value: n for r, n in accounts.ROLE_NAMES.items()},
    }


def _typed(form: Any) -> dict[str, Any]:
    """What an account form held (never its password), to show it again after an error."""
    return {
        "username": str(form.get("username", ""))[:64],
        "role": str(form.get("role", ""))[:40],
        "services": [str(v)[:12] for v in form.getlist("services")][:200],
        "region": str(form.get("region") or "")[:12],
    }


def _users_page(
    request: Request,
    status: int = 200,
    message: str | None = None,
    error: str | None = None,
    typed: dict[str, Any] | None = None,
) -> HTMLResponse:
    return render(
        request,
        "admin_users.html",
        status,
        users=accounts.list_users(engine_of(request)),
        message=message,
        error=error,
        typed=typed or {"username": "", "role": "fls_staff", "services": [], "region": ""},
        **_choices(request),
    )


def _user(request: Request, username: str) -> dict[str, Any]:
    name = username.strip().lower()
    users = accounts.list_users(engine_of(request))
    found = next((u for u in users if u["username"] == name), None)
    if found is None:
        raise NotFound(f"There is no user {username[:64]}.")
    return found


def _user_page(
    request: Request,
    username: str,
    status: int = 200,
    message: str | None = None,
    error: str | None = None,
    typed: dict[str, Any] | None = None,
) -> HTMLResponse:
    user = _user(request, username)
    shown = typed or {
        "role": user["role"],
        "services": user["services"],
        "region": user["region"] or "",
    }
    return render(
        request,
        "admin_user.html",
        status,
        user=user,
        message=message,
        error=error,
        typed=shown,
        **_choices(request),
    )


@router.get("/admin/users")
@decided("administer")
async def users_page(actor: ActorDep, request: Request) -> HTMLResponse:
    authorize(actor, "administer")
    return _users_page(request)


@router.post("/admin/users")
@decided("administer")
async def add_user(actor: ActorDep, request: Request) -> HTMLResponse:
    authorize(actor, "administer")
    form = await request.form()
    typed = _typed(form)
    try:
        accounts.add_user(
            engine_of(request),
            typed["username"],
            accounts.parse_role(typed["role"]),
            str(form.get("password", "")),
            service_codes=typed["services"],
            region=typed["region"] or None,
            by=actor.username,
        )
    except FlsdbError as exc:
        return _users_page(request, 422, error=str(exc), typed=typed)
    return _users_page(request, message=f"User {typed['username'].strip().lower()} added.")


@router.get("/admin/users/{username}")
@decided("administer")
async def user_page(actor: ActorDep, username: str, request: Request) -> HTMLResponse:
    authorize(actor, "administer")
    return _user_page(request, username)


@router.post("/admin/users/{username}/role")
@decided("administer")
async def change_role(actor: ActorDep, username: str, request: Request) -> HTMLResponse:
    authorize(actor, "administer")
    form = await request.form()
    typed = _typed(form)
    user = _user(request, username)
    if user["username"] == actor.username and typed["role"] != "admin":
        error = "You cannot take the administrator role from your own account."
        return _user_page(request, username, 422, error=error, typed=typed)
    try:
        accounts.set_role(
            engine_of(request),
            user["username"],
            accounts.parse_role(typed["role"]),
            service_codes=typed["services"],
            region=typed["region"] or None,
            by=actor.username,
        )
    except FlsdbError as exc:
        return _user_page(request, username, 422, error=str(exc), typed=typed)
    done = (
        f"{user['username']}'s role and FLSs are saved; their sessions ended and their API "
        "tokens were revoked."
    )
    return _user_page(request, username, message=done)


@router.post("/admin/users/{username}/unlock")
@decided("administer")
async def unlock_user(actor: ActorDep, username: str, request: Request) -> HTMLResponse:
    authorize(actor, "administer")
    user = _user(request, username)
    was = accounts.unlock(engine_of(request), user["username"], by=actor.username)
    done = (
        f"{user['username']} is unlocked and can sign in now."
        if was
        else f"{user['username']} was not locked; their failed sign-ins are cleared."
    )
    return _user_page(request, username, message=done)


@router.post("/admin/users/{username}/password")
@decided("administer")
async def set_password(actor: ActorDep, username: str, request: Request) -> HTMLResponse:
    authorize(actor, "administer")
    form = await request.form()
    user = _user(request, username)
    try:
        accounts.reset_password(
            engine_of(request), user["username"], str(form.get("password", "")), by=actor.username
        )
    except FlsdbError as exc:
        return _user_page(request, username, 422, error=str(exc))
    done = f"{user['username']} has a new password (and is unlocked); their sessions ended."
    return _user_page(request, username, message=done)


@router.get("/admin/users/{username}/{action}")
@decided("administer")
async def confirm_page(
    actor: ActorDep, username: str, action: str, request: Request
) -> HTMLResponse:
    authorize(actor, "administer")
    if action not in CONFIRMED:
        raise NotFound("There is no such page.")
    return _confirm(request, actor, _user(request, username), action)


def _confirm(request: Request, actor: Any, user: dict[str, Any], action: str) -> HTMLResponse:
    verb, consequence = CONFIRMED[action]
    own = action == "disable" and user["username"] == actor.username
    return render(
        request,
        "admin_confirm.html",
        422 if own else 200,
        user=user,
        action=action,
        verb=verb,
        consequence=consequence,
        error="You cannot disable your own account." if own else None,
    )


@router.post("/admin/users/{username}/{action}")
@decided("administer")
async def change_user(actor: ActorDep, username: str, action: str, request: Request) -> Response:
    """Disable or enable an account: the first post (or a link) shows what it does and asks;
    the confirmed post does it."""
    authorize(actor, "administer")
    if action not in CONFIRMED:
        raise NotFound("There is no such action.")
    form = await request.form()
    user = _user(request, username)
    if action == "disable" and user["username"] == actor.username:
        return _users_page(request, 422, error="You cannot disable your own account.")
    if form.get("confirm") != "yes":
        return _confirm(request, actor, user, action)
    accounts.set_disabled(
        engine_of(request), user["username"], action == "disable", by=actor.username
    )
    return _users_page(request, message=f"{user['username']} is {action}d.")


@router.get("/kpis")
@decided("read_aggregates")
async def kpi_page(actor: ActorDep, request: Request) -> HTMLResponse:
    context = kpi_context(request)
    default = context["years"][0] if context["years"] else str(dt.date.today().year - 1)
    period = request.query_params.get("period", default)[:20]
    by = request.query_params.get("by", "service")
    by = by if by in ("service", "region", "nation") else "service"
    rows: list[dict[str, Any]] = []
    error = None
    try:
        rows = await run_in_threadpool(
            kpi_rows,
            request.app.state.settings.database_url,
            engine_of(request),
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
    return render(
        request, "kpis.html", grouped=grouped, period=period, by=by, error=error, **context
    )


@router.get("/healthz", include_in_schema=False)
@decided("public")
def health() -> dict[str, str]:
    return {"status": "ok"}
