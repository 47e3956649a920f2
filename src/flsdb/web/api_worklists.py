"""The JSON API's worklists: an FLS's patients to follow up, as JSON or a CSV download
(`flsdb.services.worklists`)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from flsdb.services import worklists
from flsdb.services.events import record_event
from flsdb.services.policy import decided
from flsdb.sheets import csv_text
from flsdb.web.common import ActorDep, engine_of

router = APIRouter(prefix="/api", tags=["api"])

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
