"""Restoring an earlier version of a record from its history page: the button asks first (a
page showing every field the restore would change), then the confirmation restores it."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from flsdb.errors import Conflict, Locked, NotFound, ValidationFailed
from flsdb.services import records
from flsdb.services.policy import decided
from flsdb.services.restore import preview_restore, restore
from flsdb.storage.edits import changed_fields
from flsdb.storage.tables import RECORD_COLUMNS
from flsdb.web.common import ActorDep, PageRecordId, engine_of, render

router = APIRouter(include_in_schema=False)


def _number(value: object) -> int:
    text = str(value or "")
    return int(text) if text.isdigit() and len(text) < 10 else 0


@router.post("/records/{record_id}/restore")
@decided("write_patients")
async def restore_version(actor: ActorDep, record_id: PageRecordId, request: Request) -> Response:
    form = await request.form()
    version, seen = _number(form.get("version")), _number(form.get("expected_version"))
    engine = engine_of(request)
    current, earlier = preview_restore(engine, actor, record_id, version)
    if form.get("confirm") == "yes":
        try:
            restore(engine, actor, record_id, version, seen or None)
        except (Conflict, Locked, NotFound, ValidationFailed) as exc:
            message = (
                f"Version {version} does not pass today's checks; edit the record instead."
                if isinstance(exc, ValidationFailed)
                else str(exc)
            )
            return _page(request, current, earlier, version, exc.status, message)
        return RedirectResponse(f"/records/{record_id}?saved=1", status_code=303)
    return _page(request, current, earlier, version)


def _page(
    request: Request,
    current: dict[str, object],
    earlier: dict[str, object],
    version: int,
    status: int = 200,
    message: str | None = None,
) -> HTMLResponse:
    differ = changed_fields(current, earlier)  # the edit's own test of a changed field
    changes = [(c, current.get(c), earlier.get(c)) for c in RECORD_COLUMNS if c in differ]
    return render(
        request,
        "restore.html",
        status,
        record=current,
        version=version,
        changes=changes,
        labels=records.field_labels(),
        message=message,
    )
