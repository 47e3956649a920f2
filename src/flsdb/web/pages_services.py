"""The services (FLSs) for administrators: the list, and a services file loaded in the browser
with a preview of what it adds and changes before anything is stored."""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool

from flsdb.errors import FlsdbError, ValidationFailed
from flsdb.services import service_files
from flsdb.services.access import authorize
from flsdb.services.policy import decided
from flsdb.storage.tables import records, services
from flsdb.web.common import ActorDep, engine_of, render

router = APIRouter(include_in_schema=False)


def _page(request: Request, status: int = 200, **context: Any) -> HTMLResponse:
    with engine_of(request).connect() as conn:
        counts: dict[str, int] = dict(
            conn.execute(
                select(records.c.service_code, func.count()).group_by(records.c.service_code)
            ).all()
        )
        rows = [
            dict(r._mapping)
            for r in conn.execute(select(services).order_by(services.c.service_code))
        ]
    context.setdefault("preview", None)
    context.setdefault("message", None)
    context.setdefault("error", None)
    return render(request, "admin_services.html", status, services=rows, counts=counts, **context)


@router.get("/admin/services")
@decided("administer")
async def services_page(actor: ActorDep, request: Request) -> HTMLResponse:
    authorize(actor, "administer")
    return _page(request)


@router.post("/admin/services")
@decided("administer")
async def services_preview(actor: ActorDep, request: Request) -> HTMLResponse:
    """A services file checked and compared with the stored services: nothing stored yet."""
    authorize(actor, "administer")
    form = await request.form()
    file = form.get("file")
    if file is None or isinstance(file, str) or not file.filename:
        return _page(request, 422, error="Choose a services file (CSV or XLSX) first.")
    content = await file.read(service_files.MAX_BYTES + 1)
    name = file.filename[-200:]
    try:
        preview = await run_in_threadpool(
            service_files.preview, engine_of(request), actor, name, content
        )
    except FlsdbError as exc:
        return _page(request, 422, error=str(exc))
    return _page(
        request,
        422 if preview.errors else 200,
        preview=preview,
        file_name=name,
        content=base64.b64encode(content).decode(),
    )


@router.post("/admin/services/store")
@decided("administer")
async def services_store(actor: ActorDep, request: Request) -> HTMLResponse:
    """Store the previewed file (sent back by the preview's form; checked again in full)."""
    authorize(actor, "administer")
    form = await request.form()
    name = str(form.get("file_name") or "services.csv")[-200:]
    try:
        content = base64.b64decode(str(form.get("content") or ""), validate=True)
    except (binascii.Error, ValueError):
        content = b""
    if not content or hashlib.sha256(content).hexdigest() != form.get("digest"):
        error = "The previewed file did not come back whole: load it again."
        return _page(request, 422, error=error)
    try:
        summary = await run_in_threadpool(
            service_files.store, engine_of(request), actor, name, content
        )
    except ValidationFailed:
        return _page(request, 422, error="The file has errors now: load it again to see them.")
    except FlsdbError as exc:
        return _page(request, 422, error=str(exc))
    done = (
        f"Stored: {summary.inserted} FLS{'' if summary.inserted == 1 else 's'} added, "
        f"{summary.updated} updated, {summary.unchanged} unchanged."
    )
    return _page(request, message=done)
