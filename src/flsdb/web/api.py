"""The JSON API, documented by its OpenAPI schema at /openapi.json. Every route takes the actor
from `current_actor` and calls `flsdb.services`, where access is decided."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Annotated, Any

from fastapi import APIRouter, File, Path, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, create_model
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from flsdb.dictionary import load_dictionary
from flsdb.kpi import parse_period
from flsdb.services import records, signin, uploads, worklists
from flsdb.services.access import Actor, authorize, service_filter
from flsdb.services.events import EventFilter, list_events, record_event
from flsdb.services.extracts import extract_bytes, extract_for, pseudonym_key
from flsdb.services.kpis import kpi_rows_json
from flsdb.services.policy import decided
from flsdb.services.restore import restore
from flsdb.services.signin import sign_out
from flsdb.sheets import csv_text
from flsdb.storage.tables import services
from flsdb.web.auth import (
    COOKIE,
    browser_id,
    check_origin,
    client_address,
    session_token,
    set_browser_cookie,
    set_session_cookie,
)
from flsdb.web.common import ActorDep, engine_of

router = APIRouter(prefix="/api", tags=["api"])
Cell = str | int | float | list[str] | None


class Login(BaseModel):
    username: str = Field(max_length=200)
    password: str = Field(max_length=1000)


class Me(BaseModel):
    username: str
    role: str
    services: list[str]
    region: str | None
    csrf_token: str | None = None


def _record_model(name: str, with_version: bool) -> type[BaseModel]:
    fields: dict[str, Any] = {
        f.name: (Cell, Field(default=None, description=f"{f.question or ''} {f.label}: {f.help}"))
        for f in load_dictionary().records
    }
    if with_version:
        fields["version"] = (
            int,
            Field(ge=1, le=2**31 - 1, description="The version you read; a stale one is 409."),
        )
    return create_model(name, __config__=ConfigDict(extra="allow"), **fields)


RecordIn = _record_model("RecordIn", with_version=False)
RecordUpdate = _record_model("RecordUpdate", with_version=True)


def _me(actor: Actor, csrf: str | None) -> Me:
    return Me(
        username=actor.username,
        role=actor.role.value,
        services=sorted(actor.services),
        region=actor.region,
        csrf_token=csrf,
    )


@router.post("/login", response_model=Me)
@decided("public")
def login(body: Login, request: Request) -> Response:
    """Sign in: a session cookie and the CSRF token for changes. 401 for an unknown user or a
    wrong password alike; 429 once 5 attempts on the name (known or not) were made within 15
    minutes, or too many failed from the address; 503 when too many passwords are being checked
    at once (try again)."""
    check_origin(request)
    settings = request.app.state.settings
    browser = browser_id(request)
    session = signin.sign_in(
        engine_of(request),
        body.username,
        body.password,
        secret=settings.secret_key,
        address=client_address(request),
        browser=browser,
        limits=settings.limits,
    )
    response = JSONResponse(_me(session.actor, session.csrf_token).model_dump())
    set_session_cookie(request, response, session.token)
    set_browser_cookie(request, response, browser)
    return response


@router.post("/logout", status_code=204)
@decided("signed_in")
def logout(request: Request, actor: ActorDep) -> Response:
    token = session_token(request)
    if token:
        sign_out(engine_of(request), token, actor.username)
    response = Response(status_code=204)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/me", response_model=Me)
@decided("signed_in")
def me(request: Request, actor: ActorDep) -> Me:
    return _me(actor, getattr(request.state, "csrf", None))


@router.get("/services")
@decided("signed_in")
def list_services(request: Request, actor: ActorDep) -> list[dict[str, Any]]:
    """The FLSs in the caller's scope."""
    with engine_of(request).connect() as conn:
        rows = conn.execute(
            select(services)
            .where(service_filter(actor, services.c.service_code))
            .order_by(services.c.service_code)
        ).all()
    out = []
    for row in rows:
        item = dict(row._mapping)
        item.pop("created_at", None)
        item.pop("updated_at", None)
        out.append(item)
    return out


@router.get("/records")
@decided("read_patients")
def search_records(
    request: Request,
    actor: ActorDep,
    service: str | None = Query(None, max_length=12),
    fracture_from: dt.date | None = None,
    fracture_to: dt.date | None = None,
    status: records.Status | None = None,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=10_000_000),
) -> dict[str, Any]:
    """The caller's records, newest fracture first. An NHS number is never taken from an
    address (any `nhs_number` in a query string is 400): search by it with POST
    /api/records/search."""
    body = RecordSearch(
        service=service,
        fracture_from=fracture_from,
        fracture_to=fracture_to,
        status=status,
        limit=limit,
        offset=offset,
    )
    return _search(request, actor, body)


class RecordSearch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service: str | None = Field(default=None, max_length=12)
    nhs_number: str | None = Field(default=None, max_length=20)
    fracture_from: dt.date | None = None
    fracture_to: dt.date | None = None
    status: records.Status | None = None
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0, le=10_000_000)


@router.post("/records/search")
@decided("read_patients")
def search_records_by_body(body: RecordSearch, request: Request, actor: ActorDep) -> dict[str, Any]:
    """The same search as GET /api/records, its fields in a JSON body: the way to search by NHS
    number, which then never appears in an address, a log or a browser's history."""
    return _search(request, actor, body)


def _search(request: Request, actor: Actor, body: RecordSearch) -> dict[str, Any]:
    found, total = records.search(
        engine_of(request),
        actor,
        records.Search(
            service=body.service.upper() if body.service else None,
            nhs_number=body.nhs_number,
            fracture_from=body.fracture_from,
            fracture_to=body.fracture_to,
            status=body.status,
            limit=body.limit,
            offset=body.offset,
        ),
    )
    return {"records": found, "total": total}


# Ids and versions are 32-bit integers in the store (PostgreSQL's integer).
MAX_INT = 2**31 - 1
RecordId = Annotated[int, Path(ge=1, le=MAX_INT)]
UploadId = Annotated[str, Path(max_length=64)]


@router.get("/records/{record_id}")
@decided("read_patients")
def get_record(record_id: RecordId, request: Request, actor: ActorDep) -> dict[str, Any]:
    return records.get(engine_of(request), actor, record_id)


@router.post("/records", status_code=201)
@decided("write_patients")
def create_record(body: RecordIn, request: Request, actor: ActorDep) -> dict[str, Any]:  # type: ignore[valid-type]
    return records.create(engine_of(request), actor, body.model_dump(exclude_unset=True))  # type: ignore[attr-defined]


@router.put("/records/{record_id}")
@decided("write_patients")
def update_record(
    record_id: RecordId,
    body: RecordUpdate,  # type: ignore[valid-type]
    request: Request,
    actor: ActorDep,
) -> dict[str, Any]:
    values = body.model_dump()  # type: ignore[attr-defined]
    version = values.pop("version")
    return records.change(engine_of(request), actor, record_id, version, values)


@router.delete("/records/{record_id}", status_code=204)
@decided("write_patients")
def delete_record(
    record_id: RecordId,
    request: Request,
    actor: ActorDep,
    version: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
) -> Response:
    records.remove(engine_of(request), actor, record_id, version)
    return Response(status_code=204)


@router.get("/records/{record_id}/history")
@decided("read_patients")
def record_history(record_id: RecordId, request: Request, actor: ActorDep) -> list[dict[str, Any]]:
    return records.history(engine_of(request), actor, record_id)


class Restore(BaseModel):
    version: int = Field(ge=1, le=MAX_INT, description="The earlier version to restore.")
    expected_version: int | None = Field(
        default=None,
        ge=1,
        le=MAX_INT,
        description="The version you read (as for an edit, a stale one is 409); default: the "
        "record's current version.",
    )


@router.post("/records/{record_id}/restore")
@decided("write_patients")
def restore_record(
    record_id: RecordId, body: Restore, request: Request, actor: ActorDep
) -> dict[str, Any]:
    """Write an earlier version's values as a new version (audited as a restore; 423 if the
    record is locked, 409 if it changed since `expected_version`)."""
    return restore(engine_of(request), actor, record_id, body.version, body.expected_version)


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


@router.get("/kpis", response_model=list[dict[str, Any]])
@decided("read_aggregates")
def kpis(
    request: Request,
    actor: ActorDep,
    period: str = Query(..., max_length=20, examples=["2024", "2024-Q1", "2024-03"]),
    by: str = Query("service", max_length=20),
    as_of: dt.date | None = None,
) -> Response:
    """The objects of `flsdb kpis --format json`; FLS rows only for the FLSs in scope."""
    text = kpi_rows_json(
        request.app.state.settings.database_url,
        engine_of(request),
        actor,
        period,
        by,
        as_of,
        request.app.state.dashboards,
    )
    return Response(text, media_type="application/json")


@router.get("/audit")
@decided("administer")
def audit(
    request: Request,
    actor: ActorDep,
    action: str | None = Query(None, max_length=40),
    user: str | None = Query(None, max_length=64),
    record: int | None = Query(None, ge=1, le=2**31 - 1),
    since: dt.date | None = Query(None, alias="from"),
    until: dt.date | None = Query(None, alias="to"),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=10_000_000),
) -> dict[str, Any]:
    """Logins and failures, reads of patient data, changes, uploads and exports (admin), newest
    first: of one action, user or record, between two days (both included) when asked."""
    authorize(actor, "administer")
    chosen = EventFilter(action or None, user or None, record, since, until)
    rows, total = list_events(engine_of(request), limit=limit, offset=offset, chosen=chosen)
    return {"events": rows, "total": total}


@router.get("/extracts/pseudonymised")
@decided("extract_pseudonymised")
def pseudonymised_extract(
    request: Request,
    actor: ActorDep,
    period: str = Query(..., max_length=20, examples=["2024"]),
    format: str = Query("csv", pattern="^(csv|parquet)$"),
) -> Response:
    """One row per record of the period with a keyed pseudonym and no identifiers (national
    analysts); the key is the server's ($FLSDB_PSEUDONYM_KEY) and never in the extract."""
    authorize(actor, "extract_pseudonymised")
    frame = extract_for(
        request.app.state.settings.database_url,
        engine_of(request),
        actor,
        period,
        pseudonym_key(),
    )
    content, media = extract_bytes(frame, format)

    # The file name from the period as parsed (its label), never the text as sent.
    name = f"flsdb-pseudonymised-{parse_period(period).label}.{format}"
    return Response(
        content,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


WORKLIST_COLUMNS = (
    "id",
    "nhs_number",
    "date_of_birth",
    "date_fracture_diagnosed",
    "fracture_site",
    "due_date",
    "days_to_due",
    "followup_16w",
    "followup_52w",
    "bone_therapy_recommended",
    "age",
    "sex",
    "missing",
)


@router.get("/worklists/{service_code}")
@decided("read_patients")
def worklist(
    service_code: Annotated[str, Path(max_length=12)],
    request: Request,
    actor: ActorDep,
    list: worklists.ListName = "due_16w",
    as_of: dt.date | None = None,
    format: str = Query("json", pattern="^(json|csv)$"),
    limit: int = Query(500, ge=1, le=5000),
    offset: int = Query(0, ge=0, le=10_000_000),
    everyone: bool = False,
) -> Any:
    """Patients to follow up: due in the next 14 days or overdue while the window is open (16
    or 52 weeks), or records missing key fields. The follow-up lists hold the patients
    recommended bone therapy (whom KPIs 9 to 11 count) unless `everyone`. A CSV holds the whole
    list (from `offset`); CSV downloads are recorded in the access log."""
    found = worklists.worklist(
        engine_of(request),
        actor,
        service_code.upper(),
        list,
        as_of,
        limit if format == "json" else 10_000_000,
        offset,
        everyone,
    )
    if format == "json":
        return found

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(WORKLIST_COLUMNS)
    for row in found["rows"]:
        cells = {**row, "missing": "; ".join(row.get("missing", []))}
        writer.writerow([csv_text(cells.get(c)) for c in WORKLIST_COLUMNS])
    record_event(
        engine_of(request),
        actor.username,
        "export_worklist",
        service_code=found["service"],
        detail=f"{list}: {len(found['rows'])} rows",
    )
    name = f"worklist-{found['service']}-{list}-{found['as_of']}.csv"
    return Response(
        buffer.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
