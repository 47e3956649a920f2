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


def _locks_page(
    request: Request,
    actor: Any,
    status: int = 200,
    message: str | None = None,
    error: str | None = None,
) -> HTMLResponse:
    from flsdb.services import locks

    return _render(
        request,
        "locks.html",
        status,
        locks=locks.list_locks(_engine(request), actor),
        message=message,
        error=error,
        services=sorted(actor.services),
    )


@router.get("/locks")
async def locks_page(request: Request) -> HTMLResponse:
    actor = await current_actor(request)
    return _locks_page(request, actor)


@router.post("/locks")
async def locks_change(request: Request) -> HTMLResponse:
    from flsdb.errors import FlsdbError
    from flsdb.services import locks

    actor = await current_actor(request)
    form = await request.form()
    action = str(form.get("action", ""))
    engine = _engine(request)
    try:
        if action == "sign_off":
            done = locks.sign_off(
                engine,
                actor,
                str(form.get("service", "")).upper()[:12],
                str(form.get("period", ""))[:20],
                str(form.get("note", "")),
            )
            missing = done.get("records_missing_key_fields") or 0
            message = f"{done['service']} signed off {done['period']}." + (
                f" {missing} of its records in it miss key fields." if missing else ""
            )
        elif action == "lock":
            done = locks.lock_year(
                engine, actor, str(form.get("period", ""))[:20], str(form.get("note", ""))
            )
            message = f"{done['period']} is locked."
        elif action == "lift":
            text = str(form.get("lock_id", ""))
            done = locks.lift(engine, actor, int(text) if text.isdigit() and len(text) < 10 else 0)
            message = f"The {done['kind'].replace('_', '-')} of {done['period']} is lifted."
        else:
            return _locks_page(request, actor, 422, error="Choose what to do.")
    except FlsdbError as exc:
        from flsdb.web.app import _status

        return _locks_page(request, actor, _status(exc), error=str(exc))
    return _locks_page(request, actor, message=message)
