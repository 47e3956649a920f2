"""Signing in and out on the pages, the session's life (how long it has left, "stay signed in"),
the page asked for before signing in (`next`, local paths only) and forms posted after the session
ended, kept so that after signing in again the form comes back as it was typed."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from flsdb.services import accounts, kept_forms, signin
from flsdb.services.access import Actor
from flsdb.services.policy import decided
from flsdb.web.auth import (
    COOKIE,
    browser_id,
    check_origin,
    client_address,
    session_token,
    set_browser_cookie,
    set_session_cookie,
)
from flsdb.web.common import ActorDep, home_of, render

router = APIRouter(include_in_schema=False)
KEPT_COOKIE = "flsdb_kept"
# A local path: one "/", then no "/" or "\\" next, and no scheme, control character or space.
_LOCAL = re.compile(r"^/(?![/\\])[A-Za-z0-9/_.~%=&?;:+,!*'()@-]*$")
FORM_TYPE = "application/x-www-form-urlencoded"
# The pages whose form is shown again, filled in, after an ended session (the record form).
FORM_PAGES = re.compile(r"^/records/(new|[0-9]{1,10})$")


def safe_next(text: str | None) -> str | None:
    """`text` when it is a path on this site (never another site: no scheme, no //host, no
    backslash), else None."""
    if not text or len(text) > 1000 or "\\" in text or not _LOCAL.match(text):
        return None
    if text.startswith(("/login", "/logout", "/api/")):
        return None
    return text


def _settings(request: Request) -> Any:
    return request.app.state.settings


def _login_page(
    request: Request, status: int = 200, message: str | None = None, **context: Any
) -> HTMLResponse:
    kept = bool(request.cookies.get(KEPT_COOKIE))
    return render(
        request,
        "login.html",
        status,
        actor=None,
        message=message,
        kept=kept,
        next=safe_next(request.query_params.get("next")) or context.pop("next", None),
        **context,
    )


@router.get("/login")
@decided("public")
def login_page(request: Request) -> HTMLResponse:
    return _login_page(request)


@router.post("/login")
@decided("public")
async def login_form(request: Request) -> Response:
    check_origin(request)
    form = await request.form()
    username, password = str(form.get("username", ""))[:200], str(form.get("password", ""))[:1000]
    wanted = safe_next(str(form.get("next", "")))
    settings = _settings(request)
    browser = browser_id(request)
    try:
        session = await run_in_threadpool(
            lambda: signin.sign_in(
                request.app.state.engine,
                username,
                password,
                secret=settings.secret_key,
                address=client_address(request),
                browser=browser,
                limits=settings.limits,
            )
        )
    except (signin.LoginFailed, signin.AccountLocked, signin.Busy) as exc:
        return _login_page(request, exc.status, str(exc), username=username, next=wanted)
    response = RedirectResponse(wanted or home_of(session.actor), status_code=303)
    set_session_cookie(request, response, session.token)
    set_browser_cookie(request, response, browser)
    return response


@router.post("/logout")
@decided("signed_in")
async def logout(actor: ActorDep, request: Request) -> Response:
    token = session_token(request)
    if token:
        signin.sign_out(request.app.state.engine, token, actor.username)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


def _left(ends: dt.datetime | None) -> dict[str, Any]:
    seconds = max(0, int((ends - accounts.now()).total_seconds())) if ends else None
    return {"seconds": seconds}


@router.get("/api/session")
@decided("signed_in")
async def session_left(actor: ActorDep, request: Request) -> JSONResponse:
    """How many seconds the session has left unless used (asking does not extend it); null
    for an API token, which has no idle limit."""
    return JSONResponse(_left(getattr(request.state, "session_ends", None)))


@router.post("/api/session")
@decided("signed_in")
async def stay_signed_in(actor: ActorDep, request: Request) -> JSONResponse:
    """ "Stay signed in": the session's idle limit starts again (up to its absolute limit)."""
    token = session_token(request)
    live = (
        signin.extend_session(request.app.state.engine, token, _settings(request).limits)
        if token
        else None
    )
    return JSONResponse(_left(live.ends_at if live else None))


async def sign_in_again(request: Request) -> Response:
    """A page asked for without a live session: to the sign-in page, which comes back here. A
    form posted with an ended session is kept first (for the same user, never in the address),
    and its page shows it filled in after the user signs in again."""
    path = request.url.path
    target: str | None = path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET":  # back to the page the form was on
        referer = urlsplit(request.headers.get("referer", ""))
        same = referer.netloc == request.url.netloc
        target = referer.path + (f"?{referer.query}" if referer.query else "") if same else None
    target = safe_next(target)
    response = RedirectResponse(
        "/login" + (f"?next={quote(target, safe='/')}" if target else ""), status_code=303
    )
    token = session_token(request)
    if (
        request.method != "POST"
        or not token
        or not FORM_PAGES.match(path)
        or not request.headers.get("content-type", "").startswith(FORM_TYPE)
    ):
        return response
    engine = request.app.state.engine
    owner = signin.session_owner(engine, token)
    if owner is None:
        return response
    try:
        form = await request.form()
    except (RuntimeError, ClientDisconnect):  # a body already read, or gone: nothing to keep
        return response
    fields = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    kept_id = kept_forms.keep(engine, owner, path, fields)
    if kept_id is None:
        return response
    response.headers["location"] = f"/login?next={quote(path, safe='/')}"
    response.set_cookie(
        KEPT_COOKIE,
        kept_id,
        max_age=kept_forms.KEEP_MINUTES * 60,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


def kept_fields(request: Request, actor: Actor) -> list[tuple[str, str]] | None:
    """The fields kept for this page and user (read once), or None."""
    kept_id = request.cookies.get(KEPT_COOKIE)
    if not kept_id or actor.user_id is None:
        return None
    return kept_forms.take(request.app.state.engine, kept_id, actor.user_id, request.url.path)


def forget_kept(response: Response) -> None:
    response.delete_cookie(KEPT_COOKIE, path="/")
