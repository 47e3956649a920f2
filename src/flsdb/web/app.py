"""The application: routers, security headers, body limits, and one mapping from flsdb's errors
to HTTP (JSON under /api, a page elsewhere)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError, SQLAlchemyError

from flsdb.errors import FlsdbError, Pending, ValidationFailed
from flsdb.ingest.limits import WEB
from flsdb.services import event_writer
from flsdb.services.dashboards import DashboardCache, warm
from flsdb.services.policy import decision_of
from flsdb.storage import open_engine
from flsdb.storage.urls import ENV_VAR, resolve_url
from flsdb.web import (
    api,
    api_locks,
    api_records,
    api_uploads,
    api_worklists,
    hygiene,
    pages,
    pages_admin,
    pages_audit,
    pages_extracts,
    pages_fls,
    pages_records,
    pages_restore,
    pages_services,
    pages_templates,
    pages_worklist,
    signin,
    stalls,
)
from flsdb.web.auth import current_actor
from flsdb.web.common import error_page, issue_list, pending_page
from flsdb.web.dashboard_parts import router as dashboard_parts
from flsdb.web.guard import Guard
from flsdb.web.settings import SECRET_ENV, THREADS_ENV, Settings, limits_from_environment
from flsdb.web.signin import sign_in_again

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
}
# A multipart body carries a little more than its file.
MAX_BODY = WEB.max_bytes + 1024 * 1024


def stop_workers(app: FastAPI) -> None:
    """End the figures worker process with the server (a computation under way is not waited
    for: its figures would be thrown away), and close the pool's queues so that no semaphore is
    left behind; then the database connections."""
    cache = getattr(app.state, "dashboards", None)
    # The dashboards' pool and the live KPI rows' pool (`LiveCache.start_pool`).
    for owner in (cache, getattr(cache, "live", None)):
        pool = getattr(owner, "pool", None)
        if pool is None:
            continue
        owner.pool = None  # type: ignore[union-attr]
        # The executor has no public way to stop a busy worker: its processes are ended here.
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.terminate()
        pool.shutdown(wait=True, cancel_futures=True)
    engine = getattr(app.state, "engine", None)
    if engine is not None:
        event_writer.stop(engine)  # the access events still queued, written
        engine.dispose()


class _StaticFiles(StaticFiles):
    """The stylesheets, scripts and vendored libraries (nobody's data): kept by the browser and
    checked with the server at each use (`no-cache`: 304 Not Modified while a file is unchanged,
    so a new version is seen at once), not sent whole with every page and compiled again, as
    the pages' `no-store` would have them (a dashboard's Vega libraries are 830 kB)."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "no-cache"
        return response


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    threads = int(_seconds(THREADS_ENV, 0))
    if threads > 0:  # the requests worked on at once, in threads (`flsdb serve --threads`)
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
    yield
    stop_workers(app)


def create_app(settings: Settings) -> FastAPI:
    app = FastAPI(
        title="flsdb",
        version="1",
        description="The flsdb JSON API: records, uploads, KPIs and the audit log of a fracture "
        "liaison service audit. Authenticate with POST /api/login (a session cookie; changes "
        "then need the X-CSRF-Token from GET /api/me) or with `Authorization: Bearer TOKEN`.",
        docs_url=None,
        redoc_url=None,
        lifespan=_lifespan,
        # Starlette's own redirect builds an absolute Location from the Host header: the 404
        # handler below redirects with a relative one instead (flsdb.web.hygiene).
        redirect_slashes=False,
    )
    app.state.settings = settings
    app.state.engine = open_engine(settings.database_url, pooled=True)
    event_writer.defer_events(app.state.engine)

    app.state.dashboards = DashboardCache(
        refresh_seconds=_seconds("FLSDB_DASHBOARD_REFRESH", 30.0),
        wait_seconds=_seconds("FLSDB_DASHBOARD_WAIT", 0.0),
        cells_refresh_seconds=_seconds("FLSDB_DASHBOARD_CELLS_REFRESH", 0.0),
        max_entries=max(1, int(_seconds("FLSDB_FIGURES_CACHE_ENTRIES", 12))),
        max_bytes=int(_seconds("FLSDB_FIGURES_CACHE_MB", 400) * 1024 * 1024),
    )
    if settings.worker_process:
        app.state.dashboards.start_pool()
        app.state.dashboards.live.start_pool()
        warm(app.state.dashboards, settings.database_url, app.state.engine)
    static = resources.files("flsdb.web").joinpath("static")
    app.mount("/static", _StaticFiles(directory=str(static)), name="static")
    app.include_router(api.router)
    app.include_router(api_records.router)
    app.include_router(api_uploads.router)
    app.include_router(api_worklists.router)
    app.include_router(api_locks.router)
    app.include_router(pages_records.router)  # before /records/{record_id}
    app.include_router(pages.router)
    app.include_router(signin.router)
    app.include_router(pages_admin.router)
    app.include_router(pages_audit.router)
    app.include_router(pages_services.router)
    app.include_router(pages_extracts.router)
    app.include_router(pages_templates.router)
    app.include_router(pages_fls.router)
    app.include_router(dashboard_parts)
    app.include_router(pages_restore.router)
    app.include_router(pages_worklist.router)

    # Inside Starlette's error middleware, as `@app.middleware("http")` was.
    app.add_middleware(
        Guard,
        refuse=_refusal,
        headers=HEADERS,
        max_body=MAX_BODY,
        unexpected=UNEXPECTED,
        nul_refusal=NUL_REFUSAL,
        limit_text=WEB.size_text(),
    )
    stalls.install(app, app.state.engine)  # a diagnosis, off unless $FLSDB_STALLS is set

    @app.exception_handler(FlsdbError)
    async def flsdb_error(request: Request, exc: FlsdbError) -> Response:
        status = exc.status  # each error class's own (flsdb.errors)
        if isinstance(exc, Pending):
            if not request.url.path.startswith("/api"):
                return pending_page(request, str(exc), RETRY_SECONDS)
            headers = {"Retry-After": str(RETRY_SECONDS)}
            return JSONResponse({"detail": str(exc)}, status_code=status, headers=headers)
        if not request.url.path.startswith("/api"):
            if status == 401:
                return await sign_in_again(request)
            return error_page(request, status, str(exc))
        if isinstance(exc, ValidationFailed):
            return JSONResponse({"issues": issue_list(exc)}, status_code=422)
        return JSONResponse({"detail": str(exc)}, status_code=status)

    @app.exception_handler(404)
    async def not_found(request: Request, exc: Exception) -> Response:
        target = hygiene.slash_redirect(request)
        if target is not None:
            return Response(status_code=307, headers={"Location": target})
        await _signed_in(request)
        return _refusal(request, 404, "There is no such page.")

    @app.exception_handler(405)
    async def not_allowed(request: Request, exc: Exception) -> Response:
        await _signed_in(request)
        return _refusal(request, 405, "This address does not take that kind of request.")

    @app.exception_handler(RequestValidationError)
    async def not_a_page(request: Request, exc: RequestValidationError) -> Response:
        """A page's address that does not fit (/records/abc) is no such page, in the layout;
        the API keeps its validation errors (JSON)."""
        if request.url.path.startswith("/api"):
            return await request_validation_exception_handler(request, exc)
        await _signed_in(request)
        if any(tuple(e.get("loc", ()))[:1] == ("path",) for e in exc.errors()):
            return _refusal(request, 404, "There is no such page.")
        return _refusal(request, 422, "What was sent could not be read; nothing was changed.")

    @app.exception_handler(DataError)
    async def refused_by_database(request: Request, exc: DataError) -> Response:
        if "NUL (0x00)" in str(exc.orig):  # PostgreSQL's text cannot hold it; SQLite's can
            return _refusal(request, 422, NUL_REFUSAL)
        return await unexpected(request, exc)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        hygiene.log_unexpected(request, exc)
        return _refusal(request, 500, UNEXPECTED)

    return app


# Routes the application gets from its framework, declared public here (every other route names
# its action with `flsdb.services.policy.decided`).
PUBLIC_ROUTES = {
    "/openapi.json": "the API's schema",
    "/static": "stylesheets, the form's script and the vendored Vega libraries",
}


def application_routes(routes: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Every route the application answers, as (path, route): the routers it includes opened
    (FastAPI keeps an included router as one entry of `app.routes`)."""
    found: list[tuple[str, Any]] = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            context = getattr(route, "include_context", None)
            found += application_routes(
                inner.routes, prefix + (getattr(context, "prefix", "") or "")
            )
        else:
            found.append((prefix + str(getattr(route, "path", "")), route))
    return found


def route_decision(route: Any) -> tuple[str, ...] | None:
    """The actions a route of the application declared (None: it declared none)."""
    if getattr(route, "path", None) in PUBLIC_ROUTES:
        return ("public",)
    return decision_of(getattr(route, "endpoint", None))


def _seconds(name: str, default: float) -> float:
    text = os.environ.get(name, "")
    return float(text) if text.replace(".", "", 1).isdigit() else default


RETRY_SECONDS = 5  # figures being computed: ask again after
UNEXPECTED = "Something went wrong on the server; nothing was changed."
NUL_REFUSAL = "A value in the request holds a NUL character (0x00), which no field may hold."


def app_from_environment() -> FastAPI:
    """The application `flsdb serve` runs in each server process: the database from
    $FLSDB_DATABASE_URL, the secret from $FLSDB_SECRET_KEY (set by `flsdb serve`)."""
    return create_app(
        Settings(
            database_url=resolve_url(os.environ.get(ENV_VAR)),
            secret_key=os.environ[SECRET_ENV],
            worker_process=True,
            limits=limits_from_environment(),
        )
    )


async def _signed_in(request: Request) -> None:
    """Who is signed in, if anyone, for an error page's menu (a page the router never reached
    has not looked); nobody when the session is missing or ended."""
    if getattr(request.state, "actor", None) is not None or request.url.path.startswith("/api"):
        return

    try:
        await current_actor(request)
    except (FlsdbError, SQLAlchemyError):  # no session, an ended one, or no database
        return  # the page without a menu
    except Exception as exc:  # anything else is a fault: logged, and the page still shown
        hygiene.log_unexpected(request, exc)


def _refusal(request: Request, status: int, message: str) -> Response:
    if request.url.path.startswith("/api") or request.url.path.startswith("/static"):
        return JSONResponse({"detail": message}, status_code=status)
    return error_page(request, status, message)
