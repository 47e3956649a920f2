"""The pseudonymised extract as a page for national analysts: a period and a format to choose,
the file to download, and one sentence instead when the server has no pseudonym key."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool

from flsdb.errors import FlsdbError
from flsdb.kpi import parse_period
from flsdb.services.access import authorize
from flsdb.services.extracts import extract_bytes, extract_for, pseudonym_key
from flsdb.services.policy import decided
from flsdb.storage.tables import records
from flsdb.web.common import ActorDep, engine_of, render

router = APIRouter(include_in_schema=False)
FORMATS = {"csv": "CSV (opens in a spreadsheet)", "parquet": "Parquet (for R, Python, DuckDB)"}


def _years(request: Request) -> list[str]:
    with engine_of(request).connect() as conn:
        first, last = conn.execute(
            select(
                func.min(records.c.date_fracture_diagnosed),
                func.max(records.c.date_fracture_diagnosed),
            )
        ).one()
    if not first or not last:
        return []
    return [str(y) for y in range(int(str(last)[:4]), int(str(first)[:4]) - 1, -1)]


def _page(request: Request, status: int = 200, **context: Any) -> HTMLResponse:
    no_key = None
    try:
        pseudonym_key()
    except FlsdbError as exc:
        no_key = str(exc)
    years = _years(request)
    context.setdefault("period", years[0] if years else "")
    context.setdefault("format", "csv")
    context.setdefault("error", None)
    return render(
        request, "extracts.html", status, years=years, formats=FORMATS, no_key=no_key, **context
    )


@router.get("/extracts")
@decided("extract_pseudonymised")
async def extracts_page(actor: ActorDep, request: Request) -> HTMLResponse:
    authorize(actor, "extract_pseudonymised")
    return _page(request)


@router.get("/extracts/pseudonymised")
@decided("extract_pseudonymised")
async def extract_download(actor: ActorDep, request: Request) -> Response:
    """The extract of the chosen period as a file (audited), or the page with the reason."""
    authorize(actor, "extract_pseudonymised")
    period = (request.query_params.get("period") or "").strip()[:20]
    chosen = request.query_params.get("format", "csv")
    chosen = chosen if chosen in FORMATS else "csv"
    if not period:
        return _page(request, 422, error="Choose a period: a year such as 2024.", format=chosen)
    try:
        label = parse_period(period).label
        frame = await run_in_threadpool(
            extract_for,
            request.app.state.settings.database_url,
            engine_of(request),
            actor,
            period,
            pseudonym_key(),
        )
    except FlsdbError as exc:
        return _page(request, 422, error=str(exc), period=period, format=chosen)
    content, media = extract_bytes(frame, chosen)
    # The file name from the period as parsed (its label), never the text as sent.
    name = f"flsdb-pseudonymised-{label}.{chosen}"
    return Response(
        content,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
