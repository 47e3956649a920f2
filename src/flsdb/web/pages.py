"""Server-rendered pages over the same services as the API; they work without JavaScript."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from flsdb.errors import Conflict, FlsdbError, Locked, ValidationFailed
from flsdb.profiles import load_profile, profile_names
from flsdb.services import records, uploads
from flsdb.services.access import Actor, authorize
from flsdb.services.locks import lock_state
from flsdb.services.policy import decided
from flsdb.storage.edits import DuplicateRecord
from flsdb.storage.locks import followup_fields
from flsdb.web.common import (
    ActorDep,
    PageRecordId,
    engine_of,
    home_of,
    issue_list,
    render,
    service_names,
)
from flsdb.web.common import templates as templates  # web/dashboards renders parts with it
from flsdb.web.forms import form_values, record_form
from flsdb.web.signin import forget_kept, kept_fields

router = APIRouter(include_in_schema=False)
PAGE = 50
SAVED = "Saved."


@router.get("/")
@decided("signed_in")
async def home(actor: ActorDep, request: Request) -> Response:
    return RedirectResponse(home_of(actor), status_code=303)


def _form_page(
    request: Request,
    actor: Actor,
    values: dict[str, Any],
    issues: list[dict[str, Any]],
    record: dict[str, Any] | None,
    status: int = 200,
    message: str | None = None,
    closed: bool = False,
    followup_only: bool = False,
    existing: int | None = None,
) -> HTMLResponse:
    kept = kept_fields(request, actor) if request.method == "GET" else None
    if kept is not None:
        values = _values_of(kept)
        version = next((v for k, v in kept if k == "version" and v.isdigit()), None)
        if record is not None and version is not None:
            record = {**record, "version": int(version)}
        message = KEPT
    sections = record_form(values, issues, sorted(actor.services))
    response = render(
        request,
        "record_form.html",
        status,
        sections=sections,
        record=record,
        issues=issues,
        message=message,
        saved=message == SAVED,
        conflict=status == 409,
        locked=(status == 423 or closed) and not followup_only,
        followup_only=followup_only,
        existing=existing,
        open_fields=sorted(followup_fields()) if followup_only else [],
        labels=records.field_labels(),
    )
    if kept is not None:
        forget_kept(response)
    return response


KEPT = (
    "Your session had ended, so this was not saved: here is what you typed. Check it and "
    "press Save."
)


def _values_of(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """A form's fields (as posted, a name may repeat) as the record's values."""
    single = dict(pairs)
    multi: dict[str, list[str]] = {}
    for key, value in pairs:
        multi.setdefault(key, []).append(value)
    return form_values(single, {k: v for k, v in multi.items() if len(v) > 1})


@router.get("/records/new")
@decided("write_patients")
async def new_record(actor: ActorDep, request: Request) -> HTMLResponse:
    authorize(actor, "write_patients")
    start = {"service_code": sorted(actor.services)[0]} if len(actor.services) == 1 else {}
    return _form_page(request, actor, start, [], None)


async def submitted(request: Request) -> dict[str, Any]:
    form = await request.form()
    return _values_of([(k, v) for k, v in form.multi_items() if isinstance(v, str)])


def _saved(
    request: Request,
    actor: Actor,
    values: dict[str, Any],
    record: dict[str, Any] | None,
    save: Callable[[], dict[str, Any]],
) -> Response:
    """Save, and go to the saved record; or the form again with the reason it was not saved."""
    try:
        saved = save()
    except ValidationFailed as exc:
        message = "The record was not saved: correct the fields marked below."
        return _form_page(request, actor, values, issue_list(exc), record, 422, message)
    except (Conflict, Locked) as exc:
        status = exc.status
        existing = exc.record_id if isinstance(exc, DuplicateRecord) else None
        return _form_page(request, actor, values, [], record, status, str(exc), existing=existing)
    return RedirectResponse(f"/records/{saved['id']}?saved=1", status_code=303)


@router.post("/records/new")
@decided("write_patients")
async def create_record(actor: ActorDep, request: Request) -> Response:
    values = await submitted(request)
    return _saved(
        request, actor, values, None, lambda: records.create(engine_of(request), actor, values)
    )


@router.get("/records/{record_id}")
@decided("read_patients")
async def edit_record(actor: ActorDep, record_id: PageRecordId, request: Request) -> HTMLResponse:
    record = records.get(engine_of(request), actor, record_id)
    fracture = dt.date.fromisoformat(str(record["date_fracture_diagnosed"]))
    reason, followup = lock_state(engine_of(request), str(record["service_code"]), fracture)
    if reason:
        done = "The follow-up was saved. " if request.query_params.get("saved") else ""
        return _form_page(
            request, actor, record, [], record, 200, done + reason, True, followup_only=followup
        )
    saved = SAVED if request.query_params.get("saved") else None
    return _form_page(request, actor, record, [], record, message=saved)


@router.post("/records/{record_id}")
@decided("write_patients")
async def save_record(actor: ActorDep, record_id: PageRecordId, request: Request) -> Response:
    form = await request.form()
    version = int(str(form.get("version", "0"))) if str(form.get("version", "")).isdigit() else 0
    values = await submitted(request)
    current = {**records.get(engine_of(request), actor, record_id), "version": version}
    values = _followup_only(request, current, values)
    return _saved(
        request,
        actor,
        values,
        current,
        lambda: records.change(engine_of(request), actor, record_id, version, values),
    )


def _followup_only(
    request: Request, current: dict[str, Any], values: dict[str, Any]
) -> dict[str, Any]:
    """A signed-off record's form sends its follow-up fields alone (the others are shown, not
    sent): the stored values stand for the rest."""
    fracture = dt.date.fromisoformat(str(current["date_fracture_diagnosed"]))
    reason, followup = lock_state(engine_of(request), str(current["service_code"]), fracture)
    if not reason or not followup:
        return values
    opened = followup_fields()
    kept = {k: v for k, v in current.items() if k not in opened and k not in ("id", "version")}
    return {**kept, **{k: v for k, v in values.items() if k in opened}}


@router.post("/records/{record_id}/delete")
@decided("write_patients")
async def delete_record(actor: ActorDep, record_id: PageRecordId, request: Request) -> Response:
    form = await request.form()
    version = str(form.get("version", ""))
    seen = int(version) if version.isdigit() else None
    records.remove(engine_of(request), actor, record_id, seen)
    return RedirectResponse("/records", status_code=303)


@router.get("/records/{record_id}/history")
@decided("read_patients")
async def history(actor: ActorDep, record_id: PageRecordId, request: Request) -> HTMLResponse:
    record = records.get(engine_of(request), actor, record_id)
    changes = records.history(engine_of(request), actor, record_id)
    return render(
        request, "history.html", record=record, changes=changes, labels=records.field_labels()
    )


def _upload_choices(request: Request) -> dict[str, Any]:
    """The profiles the upload form offers (flsdb's own format first), and the uploader's past
    uploads."""
    actor = getattr(request.state, "actor", None)
    past = uploads.list_uploads(engine_of(request), actor) if actor is not None else []
    with engine_of(request).connect() as conn:
        names = {str(row.service_code): str(row.service_name) for row in service_names(conn)}
    return {
        "profiles": [(n, load_profile(n).title) for n in profile_names()],
        "past": past,
        "fls_names": names,
    }


@router.get("/uploads")
@decided("write_patients")
async def upload_page(actor: ActorDep, request: Request) -> HTMLResponse:
    authorize(actor, "write_patients")
    return render(request, "upload.html", preview=None, message=None, **_upload_choices(request))


@router.post("/uploads")
@decided("write_patients")
async def upload_file(actor: ActorDep, request: Request) -> Response:
    authorize(actor, "write_patients")
    form = await request.form()
    file = form.get("file")
    choices = _upload_choices(request)
    if file is None or isinstance(file, str) or not file.filename:
        return render(
            request,
            "upload.html",
            422,
            preview=None,
            message="Choose a CSV or XLSX file first.",
            **choices,
        )
    content = await file.read(uploads.WEB.max_bytes + 1)
    profile, service = (str(form.get(k) or "")[:40] or None for k in ("profile", "service"))
    blank = "clear" if form.get("blank") == "clear" else "keep"
    sheet = str(form.get("sheet") or "")[:31] or None
    hours = request.app.state.settings.upload_preview_hours
    try:
        result = await run_in_threadpool(
            uploads.preview,
            engine_of(request),
            actor,
            file.filename,
            content,
            profile,
            service,
            blank,
            hours,
            sheet,
        )
    except FlsdbError as exc:
        return render(request, "upload.html", 422, preview=None, message=str(exc), **choices)
    return RedirectResponse(f"/uploads/{result['id']}", status_code=303)


@router.get("/uploads/{upload_id}")
@decided("write_patients")
async def upload_preview(actor: ActorDep, upload_id: str, request: Request) -> HTMLResponse:
    offset = request.query_params.get("offset", "0")
    start = int(offset) if offset.isdigit() and len(offset) < 10 else 0
    hours = request.app.state.settings.upload_preview_hours
    preview = uploads.get_preview(engine_of(request), actor, upload_id[:64], start, PAGE * 4, hours)
    return render(
        request,
        "upload.html",
        preview=preview,
        message=None,
        labels=records.field_labels(),
        page_size=PAGE * 4,
        **_upload_choices(request),
    )


@router.post("/uploads/{upload_id}/commit")
@decided("write_patients")
async def upload_commit(actor: ActorDep, upload_id: str, request: Request) -> HTMLResponse:
    hours = request.app.state.settings.upload_preview_hours
    done = uploads.commit(engine_of(request), actor, upload_id[:64], hours)
    preview = uploads.get_preview(engine_of(request), actor, upload_id[:64], 0, PAGE * 4, hours)
    return render(
        request,
        "upload.html",
        preview=preview,
        done=done,
        message=None,
        labels=records.field_labels(),
        page_size=PAGE * 4,
        **_upload_choices(request),
    )
