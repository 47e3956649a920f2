"""The record list: search (the NHS number by POST, never in an address), fracture dates and
status; sorting, page numbers and a choice of page size; a page beyond the last refused in words.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from flsdb.services import records
from flsdb.services.access import Actor, authorize
from flsdb.services.policy import decided
from flsdb.web.common import ActorDep, engine_of, render, templates
from flsdb.web.dates import parse_typed
from flsdb.web.pages import PAGE

router = APIRouter(include_in_schema=False)

PAGE_SIZES = (25, 50, 100, 200)
SORT_WORDS = {
    "date_fracture_diagnosed": "fracture date",
    "nhs_number": "NHS number",
    "service_code": "FLS",
    "date_fls_assessment": "date assessed",
}


def _date(text: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(text)) if text else None
    except ValueError:
        return None


def _list(request: Request, actor: Actor, fields: dict[str, Any]) -> HTMLResponse:
    status = (
        fields.get("status") if fields.get("status") in ("complete", "missing", "due") else None
    )
    text = str(fields.get("page", ""))
    page = min(max(1, int(text)), 100_000) if text.isdigit() and len(text) < 7 else 1
    size_text = str(fields.get("size", ""))
    size = int(size_text) if size_text.isdigit() and int(size_text) in PAGE_SIZES else PAGE
    sort = str(fields.get("sort") or "date_fracture_diagnosed")
    sort = sort if sort in records.SORTABLE else "date_fracture_diagnosed"
    descending = str(fields.get("order") or "desc") != "asc"
    service = str(fields.get("service") or "").upper() or None
    # Fracture dates as typed (DD/MM/YYYY or ISO); one that is not a date is said so, not dropped.
    typed = {k: str(fields.get(k) or "")[:20] for k in ("fracture_from", "fracture_to")}
    dates: dict[str, Any] = dict.fromkeys(typed)
    problems = []
    for key, label in (("fracture_from", "Fracture from"), ("fracture_to", "Fracture to")):
        try:
            dates[key] = parse_typed(typed[key], label)
        except ValueError as exc:
            problems.append(str(exc))
    query = records.Search(
        service=service,
        nhs_number=str(fields.get("nhs_number") or "").strip() or None,
        fracture_from=dates["fracture_from"],
        fracture_to=dates["fracture_to"],
        status=status,
        limit=size,
        offset=(page - 1) * size,
        sort=sort,
        descending=descending,
    )
    found, total = records.search(engine_of(request), actor, query)
    pages = max(1, -(-total // size))
    refusal = None
    if page > pages:
        refusal = (
            f"There is no page {page}: the {total} record{'' if total == 1 else 's'} found "
            f"fill {pages} page{'' if pages == 1 else 's'} of {size}."
        )
    # The search, sort and page size as an address (never the NHS number: that is POSTed).
    kept = {
        k: v
        for k, v in (
            ("service", service),
            ("fracture_from", query.fracture_from),
            ("fracture_to", query.fracture_to),
            ("status", status),
            ("size", size if size != PAGE else None),
        )
        if v
    }
    return render(
        request,
        "records.html",
        404 if refusal else 200,
        rows=found,
        total=total,
        page=page,
        pages=pages,
        numbers=_page_numbers(page, pages),
        query=query,
        kept=kept,
        sizes=PAGE_SIZES,
        size=size,
        sort_words=SORT_WORDS,
        refusal=refusal,
        services=sorted(actor.services),
        labels=records.field_labels(),
        typed={k: dates[k] or typed[k] for k in typed},
        problems=problems,
    )


def _page_numbers(page: int, pages: int) -> list[int | None]:
    """The page numbers a pager shows: the first, the last and two either side of this one
    (None where numbers are left out)."""
    shown = sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)})
    out: list[int | None] = []
    for number in shown:
        if out and out[-1] is not None and number - int(out[-1]) > 1:
            out.append(None)
        out.append(number)
    return out


def records_address(kept: dict[str, Any], **changes: Any) -> str:
    """The record list's address with the search kept and `changes` made."""
    merged = {**kept, **changes}
    return "/records?" + urlencode({k: v for k, v in merged.items() if v not in (None, "")})


templates.env.globals["records_address"] = records_address


@router.get("/records")
@decided("read_patients")
async def record_list(actor: ActorDep, request: Request) -> HTMLResponse:
    authorize(actor, "read_patients")
    return _list(request, actor, dict(request.query_params))


@router.post("/records/search")
@decided("read_patients")
async def record_search(actor: ActorDep, request: Request) -> HTMLResponse:
    """Search by NHS number: a POST, so the number never appears in a URL."""
    authorize(actor, "read_patients")
    form = await request.form()
    return _list(request, actor, {k: v for k, v in form.items() if isinstance(v, str)})
