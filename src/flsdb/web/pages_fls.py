"""An FLS's own pages: its follow-up worklist (and its dashboard)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse

from flsdb.services import worklists
from flsdb.web.auth import current_actor
from flsdb.web.pages import _engine, _render

router = APIRouter(include_in_schema=False)
ServiceCode = Annotated[str, Path(max_length=12)]


@router.get("/fls/{service_code}/worklist")
async def worklist_page(service_code: ServiceCode, request: Request) -> HTMLResponse:
    actor = await current_actor(request)
    code = service_code.upper()
    chosen: Any = request.query_params.get("list", "due_16w")
    if chosen not in worklists.TITLES:
        chosen = "due_16w"
    today = dt.date.today()
    found = worklists.worklist(_engine(request), actor, code, chosen, today)
    tabs = worklists.counts(_engine(request), actor, code, today)
    return _render(
        request, "worklist.html", found=found, tabs=tabs, titles=worklists.TITLES, code=code
    )
