"""The JSON API's uploads: a CSV or XLSX file validated and previewed, then committed as
previewed (`flsdb.services.uploads`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Path, Query, Request, UploadFile
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from flsdb.services import uploads
from flsdb.services.access import authorize
from flsdb.services.policy import decided
from flsdb.web.api_records import MAX_INT
from flsdb.web.common import ActorDep, engine_of

router = APIRouter(prefix="/api", tags=["api"])
UploadId = Annotated[str, Path(max_length=64)]


@router.post("/uploads")
@decided("write_patients")
async def preview_upload(
    request: Request,
    actor: ActorDep,
    file: Annotated[UploadFile, File()],
    profile: Annotated[
        str | None,
        Query(
            max_length=40,
            description="How the file is laid out: flsdb (the default) or fls-db (the national "
            "FLS-DB export); an unknown profile is 422.",
        ),
    ] = None,
    service: Annotated[
        str | None,
        Query(
            max_length=12,
            description="The FLS the records belong to, for a file without a service_code column.",
        ),
    ] = None,
    blank: Annotated[
        str | None,
        Query(
            max_length=10,
            description="What a blank cell does to a stored record: keep (the default: blank "
            "cells and absent columns keep the stored values) or clear (blank cells clear "
            "them).",
        ),
    ] = None,
) -> dict[str, Any]:
    """Validate a CSV or XLSX file, count what storing it would do and list every field it
    would change (`changes`, the first 1,000; page with GET /api/uploads/{id}); nothing is
    stored."""
    authorize(actor, "write_patients")
    content = await file.read(uploads.WEB.max_bytes + 1)
    return await run_in_threadpool(
        uploads.preview,
        engine_of(request),
        actor,
        file.filename or "upload",
        content,
        profile,
        service,
        blank,
        _hours(request),
    )


def _hours(request: Request) -> float:
    return float(request.app.state.settings.upload_preview_hours)


@router.get("/uploads/{upload_id}")
@decided("write_patients")
def get_upload(
    upload_id: UploadId,
    request: Request,
    actor: ActorDep,
    offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> dict[str, Any]:
    """The preview, with the field changes from `offset` (`changes_total` in all); an expired
    preview is 404."""
    return uploads.get_preview(engine_of(request), actor, upload_id, offset, limit, _hours(request))


@router.post("/uploads/{upload_id}/commit")
@decided("write_patients")
def commit_upload(upload_id: UploadId, request: Request, actor: ActorDep) -> dict[str, Any]:
    """Store a previewed upload in one transaction, exactly as previewed (409 if it has errors
    or a record it changes was changed since the preview)."""
    return uploads.commit(engine_of(request), actor, upload_id, _hours(request))


@router.get("/uploads/{upload_id}/errors.csv")
@decided("write_patients")
def upload_errors(upload_id: UploadId, request: Request, actor: ActorDep) -> Response:
    content = uploads.errors_csv(engine_of(request), actor, upload_id, _hours(request))
    return Response(
        content,
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="errors.csv"'},
    )
