"""Who is asking: a session cookie (signed, HttpOnly, SameSite=Lax) or an API token, and the
CSRF and Origin checks that a cookie-authenticated change must pass."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from fastapi import Request

from flsdb.errors import FlsdbError
from flsdb.services.access import Actor

COOKIE = "flsdb_session"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class Unauthenticated(FlsdbError):
    """No valid session or token."""


class CsrfRefused(FlsdbError):
    """A cookie-authenticated change without the CSRF token, or from another site."""


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
    from flsdb.services.accounts import session_actor, token_actor

    engine = request.app.state.engine
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        actor = token_actor(engine, header[7:].strip())
        if actor is None:
            raise Unauthenticated("The API token is not valid.")
        request.state.actor = actor
        return actor
    token = session_token(request)
    found = session_actor(engine, token) if token else None
    if found is None:
        raise Unauthenticated("Please sign in.")
    actor, csrf = found
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
