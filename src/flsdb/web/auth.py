"""Who is asking: a session cookie (signed, HttpOnly, SameSite=Lax) or an API token, and the
CSRF and Origin checks that a cookie-authenticated change must pass."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Any

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from flsdb.errors import FlsdbError
from flsdb.services.access import Actor
from flsdb.services.accounts import token_actor
from flsdb.services.signin import session_lookup

COOKIE = "flsdb_session"
# A random id per browser: the CSRF token is derived from it and the user, so that signing in
# again (in another tab) keeps the token that forms already open carry.
BROWSER_COOKIE = "flsdb_browser"
_BROWSER_ID = re.compile(r"^[A-Za-z0-9_-]{43}$")
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class Unauthenticated(FlsdbError):
    """No valid session or token."""

    status = 401


class CsrfRefused(FlsdbError):
    """A cookie-authenticated change without the CSRF token, or from another site."""

    status = 403


def _sign(secret: str, token: str) -> str:
    return hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()


def cookie_value(secret: str, token: str) -> str:
    return f"{token}.{_sign(secret, token)}"


def session_token(request: Request) -> str | None:
    raw = request.cookies.get(COOKIE)
    if not raw or "." not in raw:
        return None
    token, signature = raw.rsplit(".", 1)
    if not hmac.compare_digest(signature, _sign(request.app.state.settings.secret_key, token)):
        return None
    return token


def set_session_cookie(request: Request, response: Any, token: str) -> None:
    response.set_cookie(
        COOKIE,
        cookie_value(request.app.state.settings.secret_key, token),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


def browser_id(request: Request) -> str:
    """This browser's id (from its cookie), or a new one to set with `set_browser_cookie`."""
    given = request.cookies.get(BROWSER_COOKIE, "")
    return given if _BROWSER_ID.match(given) else secrets.token_urlsafe(32)


def set_browser_cookie(request: Request, response: Any, browser: str) -> None:
    if request.cookies.get(BROWSER_COOKIE) == browser:
        return
    response.set_cookie(
        BROWSER_COOKIE,
        browser,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def check_origin(request: Request) -> None:
    """A change must not come from another site (Origin, or the browser's Sec-Fetch-Site)."""
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        raise CsrfRefused("This change came from another site and was refused.")
    origin = request.headers.get("origin")
    if origin and origin != "null":
        own = f"{request.url.scheme}://{request.url.netloc}"
        if origin.rstrip("/") != own:
            raise CsrfRefused("This change came from another site and was refused.")
    elif origin == "null":
        raise CsrfRefused("This change came from another site and was refused.")


async def current_actor(request: Request) -> Actor:
    """The signed-in actor; Unauthenticated otherwise. Cookie-authenticated changes must carry
    the session's CSRF token (header X-CSRF-Token or form field csrf_token)."""
    engine = request.app.state.engine
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        actor = token_actor(engine, header[7:].strip())
        if actor is None:
            raise Unauthenticated("The API token is not valid.")
        request.state.actor = actor
        return actor
    token = session_token(request)
    # Asking how long the session has left is not using it.
    peek = request.url.path == "/api/session" and request.method == "GET"
    limits = request.app.state.settings.limits
    found = session_lookup(engine, token, limits) if token else None
    if found is None:
        raise Unauthenticated("Please sign in.")
    live, due = found
    if due is not None and not peek:
        # The once-a-minute write waits for the store's write lock: in a thread, so that the
        # event loop (which starts and answers every request of the process) never waits on it.
        live = await run_in_threadpool(due)
    actor, csrf = live.actor, live.csrf_token
    request.state.session_ends = live.ends_at
    if request.method not in SAFE_METHODS:
        check_origin(request)
        given = request.headers.get("x-csrf-token")
        if given is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")
        ):
            form = await request.form()
            value = form.get("csrf_token")
            given = value if isinstance(value, str) else None
        if not given or not hmac.compare_digest(given, csrf):
            raise CsrfRefused("The form has expired or did not come from flsdb; reload the page.")
    request.state.actor = actor
    request.state.csrf = csrf
    return actor
