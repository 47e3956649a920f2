"""What the application takes from a request and what it never gives back: no NHS number in an
address, no raw request text in a response header or a redirect, no exception message in the
server's log. One place for each, used by `flsdb.web.app`."""

from __future__ import annotations

import logging
import re
import traceback
from typing import Any
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.routing import Match

# A period as the reports name it: a year, a quarter or a month (flsdb.kpi.periods checks the
# years); nothing else may reach a file name or a cache key.
PERIOD = re.compile(r"[0-9]{4}(-[Qq][1-4]|-(0[1-9]|1[0-2]))?")
NHS_NUMBER_IN_ADDRESS = (
    "An NHS number may not be sent in a web address (addresses are kept in logs and browser "
    "history): search with the form, or POST /api/records/search."
)


def query_refusal(request: Request) -> tuple[int, str] | None:
    """(status, sentence) when the query string holds what no address may: an NHS number (400),
    or a period outside the grammar of periods (422: a line break in it would otherwise reach
    a download's file name)."""
    for name, value in request.query_params.multi_items():
        if _identifying(name):
            return 400, NHS_NUMBER_IN_ADDRESS
        if name == "period" and value.strip(" ") and not PERIOD.fullmatch(value.strip(" ")):
            return 422, (
                f"The period '{printable(value)}' is not a period: use a year (2024), a quarter "
                "(2024-Q1) or a month (2024-03)."
            )
    return None


def _identifying(name: str) -> bool:
    """Whether a query parameter's name asks for an NHS number, however it is dressed:
    `nhs_number`, `NHS-Number`, `nhs_number[]`, or a name with `=` (an encoded `%3D`) in it."""
    letters = "".join(c for c in name.split("=")[0].lower() if c.isalnum())
    return letters in {"nhsnumber", "nhs"} or letters.startswith("nhsnumber")


def printable(text: str, limit: int = 20) -> str:
    """A value quoted back in a message: control and separator characters shown as escapes."""
    cut = text[:limit]
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in cut)


def slash_redirect(request: Request) -> str | None:
    """For a GET of a known page or route with a trailing slash, the address without it, as a
    relative path: never built from the Host header, never `//` (another site), its path and
    query percent-encoded anew rather than copied."""
    path = request.url.path
    if request.method not in ("GET", "HEAD") or path == "/" or not path.endswith("/"):
        return None
    target = "/" + path.strip("/")
    scope: dict[str, Any] = {**request.scope, "path": target, "raw_path": target.encode()}
    routes = getattr(request.app, "routes", [])
    if not any(route.matches(scope)[0] is Match.FULL for route in routes):
        return None
    query = request.query_params.multi_items()
    return quote(target, safe="/-._~") + (f"?{urlencode(query)}" if query else "")


def log_unexpected(request: Request, exc: BaseException) -> None:
    """The server log of an unexpected error: the route (its template, not the address), the
    exception's type and where it was raised, never its message (which may quote a request's
    values, an NHS number among them)."""
    route = request.scope.get("route")
    where = getattr(route, "path", None) or "an unknown route"
    frames = traceback.extract_tb(exc.__traceback__)
    stack = "; ".join(f"{f.filename}:{f.lineno} in {f.name}" for f in frames[-12:])
    logging.getLogger("flsdb.web").error(
        "unexpected %s on %s %s at %s", type(exc).__name__, request.method, where, stack
    )
