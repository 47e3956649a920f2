"""The JSON API's patient records, one at a time: search, read, create, change, delete,
history and restore (`flsdb.services.records`, where access is decided)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, create_model

from flsdb.dictionary import load_dictionary
from flsdb.services import records
from flsdb.services.access import Actor
from flsdb.services.policy import decided
from flsdb.services.restore import restore
from flsdb.web.common import ActorDep, engine_of

router = APIRouter(prefix="/api", tags=["api"])
Cell = str | int | float | list[str] | None
# Ids and versions are 32-bit integers in the store (PostgreSQL's integer).
MAX_INT = 2**31 - 1
RecordId = Annotated[int, Path(ge=1, le=MAX_INT)]


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
