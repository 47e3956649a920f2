"""The upload templates, downloaded from the upload page: the records file's columns as CSV, or
as XLSX with drop-down lists and a guide (as `flsdb template` writes them)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from flsdb.dictionary import load_dictionary
from flsdb.dictionary.template import write_csv_template, write_xlsx_template
from flsdb.errors import NotFound
from flsdb.services.access import authorize
from flsdb.services.policy import decided
from flsdb.web.common import ActorDep

router = APIRouter(include_in_schema=False)
MEDIA = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@router.get("/templates/records.{suffix}")
@decided("write_patients")
async def records_template(actor: ActorDep, suffix: str, request: Request) -> Response:
    authorize(actor, "write_patients")
    if suffix not in MEDIA:
        raise NotFound("There is no such template: download records.csv or records.xlsx.")
    writer = write_csv_template if suffix == "csv" else write_xlsx_template
    with tempfile.TemporaryDirectory(prefix="flsdb-template-") as folder:
        path = Path(folder) / f"flsdb-records.{suffix}"
        await run_in_threadpool(writer, load_dictionary(), "records", path)
        content = path.read_bytes()
    return Response(
        content,
        media_type=MEDIA[suffix],
        headers={"Content-Disposition": f'attachment; filename="flsdb-records.{suffix}"'},
    )
