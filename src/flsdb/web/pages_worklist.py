"""An FLS's follow-up worklist and the short follow-up form opened from it.

The list's tab, its choice of patients (those recommended bone therapy, or everyone) and its page
travel with the patient as the query string `list`, `everyone` and `page`, so "Back to the list"
and "Save and next" keep them; nothing identifying is ever in an address.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from flsdb.dictionary import load_dictionary
from flsdb.errors import Conflict, Locked, ValidationFailed
from flsdb.services import records, worklists
from flsdb.services.access import Actor
from flsdb.services.locks import lock_state
from flsdb.services.policy import decided
from flsdb.web.common import ActorDep, PageRecordId, engine_of, issue_list, render, shown, templates
from flsdb.web.forms import record_form
from flsdb.web.pages import PAGE, submitted

router = APIRouter(include_in_schema=False)
ServiceCode = Annotated[str, Path(max_length=12)]
WINDOW_SECTIONS = {"16w": "6", "52w": "7"}
FOLLOWUP_LISTS = ("due_16w", "overdue_16w", "due_52w", "overdue_52w")


def days_words(days: int) -> str:
    """Days until a follow-up is due, as words: today, in 3 days, 5 days overdue."""
    if days == 0:
        return "today"
    if days > 0:
        return f"in {days} day{'' if days == 1 else 's'}"
    return f"{-days} day{'' if days == -1 else 's'} overdue"


templates.env.filters["days_words"] = days_words


class Place:
    """Where a person is on a worklist: its tab, whom it lists, and its page."""

    def __init__(self, params: Any, followup: bool = False) -> None:
        chosen = str(params.get("list") or "due_16w")
        names = FOLLOWUP_LISTS if followup else worklists.LIST_NAMES
        self.list: Any = chosen if chosen in names else "due_16w"
        self.everyone = str(params.get("everyone") or "") == "1"
        text = str(params.get("page") or "")
        self.page = int(text) if text.isdigit() and len(text) < 7 and int(text) > 0 else 1

    def query(self, **extra: Any) -> str:
        pairs: dict[str, Any] = {"list": self.list}
        if self.everyone:
            pairs["everyone"] = "1"
        if self.page > 1:
            pairs["page"] = self.page
        return urlencode({**pairs, **extra})

    @property
    def window(self) -> str:
        return str(self.list)[-3:]


@router.get("/fls/{service_code}/worklist")
@decided("read_patients")
async def worklist_page(
    actor: ActorDep, service_code: ServiceCode, request: Request
) -> HTMLResponse:
    code = service_code.upper()
    place = Place(request.query_params)
    today = dt.date.today()
    engine = engine_of(request)
    found = worklists.worklist(
        engine, actor, code, place.list, today, PAGE, (place.page - 1) * PAGE, place.everyone
    )
    pages = max(1, -(-found["total"] // PAGE))
    refusal = None
    if place.page > pages:
        refusal = (
            f"There is no page {place.page} of this list: it has {pages} "
            f"page{'' if pages == 1 else 's'}. Here is page 1."
        )
        place.page = 1
        found = worklists.worklist(engine, actor, code, place.list, today, PAGE, 0, place.everyone)
    tabs = worklists.counts(engine, actor, code, today, place.everyone)
    not_done = worklists.not_done(engine, actor, code, place.list, today, place.everyone)
    done = request.query_params.get("done") == "1"
    return render(
        request,
        "worklist.html",
        found=found,
        tabs=tabs,
        titles=worklists.TITLES,
        code=code,
        place=place,
        pages=pages,
        refusal=refusal,
        not_done=not_done,
        done=done,
        followup_list=place.list in FOLLOWUP_LISTS,
    )


def _facts(record: dict[str, Any], today: dt.date) -> list[tuple[str, str]]:
    """The index fracture's key facts, shown above the follow-up."""

    labels = records.field_labels()
    born = record.get("date_of_birth")
    age = ""
    if born:
        b = dt.date.fromisoformat(str(born))
        age = str(today.year - b.year - ((today.month, today.day) < (b.month, b.day)))
    facts = [
        (labels["nhs_number"], str(record.get("nhs_number") or "")),
        ("Age", f"{age} years" if age else "not recorded"),
    ]
    for name in (
        "sex",
        "date_fracture_diagnosed",
        "fracture_site",
        "date_fls_assessment",
        "dxa",
        "bone_therapy_recommended",
    ):
        value = record.get(name)
        facts.append((labels[name], shown(value) if value else "not recorded"))
    return facts


def _short_form(
    request: Request,
    actor: Actor,
    record: dict[str, Any],
    values: dict[str, Any],
    place: Place,
    issues: list[dict[str, Any]] | None = None,
    status: int = 200,
    message: str | None = None,
) -> HTMLResponse:
    dictionary = load_dictionary()
    title = dictionary.sections[WINDOW_SECTIONS[place.window]]
    sections = [
        s for s in record_form(values, issues or [], sorted(actor.services)) if s.title == title
    ]
    fracture = dt.date.fromisoformat(str(record["date_fracture_diagnosed"]))
    reason, followup_open = lock_state(engine_of(request), str(record["service_code"]), fracture)
    locked = bool(reason) and not followup_open
    if reason and message is None:
        message = reason
    return render(
        request,
        "record_form.html",
        status,
        sections=sections,
        record=record,
        issues=issues or [],
        message=message,
        saved=message is not None and message.startswith("Saved"),
        conflict=status == 409,
        locked=locked,
        followup_only=False,
        open_fields=[],
        labels=records.field_labels(),
        short=True,
        facts=_facts(record, dt.date.today()),
        place=place,
        back=f"/fls/{record['service_code']}/worklist?{place.query()}",
        action=f"/records/{record['id']}/followup?{place.query()}",
        section_title=title,
    )


@router.get("/records/{record_id}/followup")
@decided("read_patients")
async def followup_form(actor: ActorDep, record_id: PageRecordId, request: Request) -> HTMLResponse:
    place = Place(request.query_params, followup=True)
    record = records.get(engine_of(request), actor, record_id)
    saved = request.query_params.get("saved")
    message = None
    if saved == "1":
        message = "Saved."
    elif saved == "next":
        message = "Saved. This is the next patient on the list."
    return _short_form(request, actor, record, record, place, message=message)


@router.post("/records/{record_id}/followup")
@decided("write_patients")
async def save_followup(actor: ActorDep, record_id: PageRecordId, request: Request) -> Response:
    """Save the follow-up section alone (the record's other values stand), then show it again,
    or open the next patient on the same list ("Save and next")."""
    place = Place(request.query_params, followup=True)
    form = await request.form()
    version_text = str(form.get("version", ""))
    version = int(version_text) if version_text.isdigit() else 0
    posted = await submitted(request)
    engine = engine_of(request)
    current = {**records.get(engine, actor, record_id), "version": version}
    section = WINDOW_SECTIONS[place.window]
    opened = {
        f.name
        for f in load_dictionary().records
        if f.question and f.question.split(".")[0] == section
    }
    kept = {k: v for k, v in current.items() if k not in opened and k not in ("id", "version")}
    values = {**kept, **{k: v for k, v in posted.items() if k in opened}}
    try:
        records.change(engine, actor, record_id, version, values)
    except ValidationFailed as exc:
        message = "The follow-up was not saved: correct the fields marked below."
        shown_values = {**current, **values}
        return _short_form(
            request, actor, current, shown_values, place, issue_list(exc), 422, message
        )
    except (Conflict, Locked) as exc:
        status = exc.status
        return _short_form(
            request, actor, current, {**current, **values}, place, None, status, str(exc)
        )
    if form.get("then") == "next":
        fracture = dt.date.fromisoformat(str(current["date_fracture_diagnosed"]))
        service = str(current["service_code"])
        following = worklists.next_after(
            engine, actor, service, place.list, record_id, fracture, None, place.everyone
        )
        if following is None:
            return RedirectResponse(
                f"/fls/{service}/worklist?{place.query(done='1')}", status_code=303
            )
        return RedirectResponse(
            f"/records/{following}/followup?{place.query(saved='next')}", status_code=303
        )
    return RedirectResponse(
        f"/records/{record_id}/followup?{place.query(saved='1')}", status_code=303
    )
