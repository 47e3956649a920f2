"""The audit log for administrators: filtered by action (in words), user, record and days, a
page at a time, and exported as CSV with the same filters."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from flsdb.errors import ConfigurationError
from flsdb.services.access import authorize
from flsdb.services.events import (
    EventFilter,
    event_choices,
    export_events,
    list_events,
    record_event,
)
from flsdb.services.policy import decided
from flsdb.web.common import ActorDep, engine_of, render, words
from flsdb.web.dates import parse_typed, typed_date

router = APIRouter(include_in_schema=False)
PAGE = 100
# Actions every log may hold, offered even before the first one happens.
KNOWN_ACTIONS = (
    "login",
    "login_failed",
    "login_refused_address",
    "login_refused_locked",
    "logout",
    "read_record",
    "read_records",
    "read_history",
    "read_upload",
    "read_worklist",
    "create_record",
    "update_record",
    "delete_record",
    "restore_record",
    "upload_preview",
    "upload_commit",
    "export_errors",
    "export_profile",
    "export_pseudonymised",
    "export_worklist",
    "period_signed_off",
    "period_locked",
    "period_unlocked",
    "user_added",
    "user_disabled",
    "user_enabled",
    "user_role_set",
    "user_unlocked",
    "password_reset",
    "token_created",
    "token_revoked",
    "services_loaded",
    "audit_exported",
)


def _filters(params: Any) -> tuple[EventFilter, dict[str, str], list[str]]:
    """The filter the query asks for, the values to show again, and a sentence per value that
    could not be read (that filter is then left out)."""
    typed = {k: str(params.get(k) or "").strip()[:64] for k in ("action", "user", "record")}
    typed.update({k: str(params.get(k) or "").strip()[:20] for k in ("from", "to")})
    problems: list[str] = []
    # An action in words ("login failed") is its code ("login_failed").
    action = typed["action"].lower().replace(" ", "_") or None
    record = None
    if typed["record"]:
        if typed["record"].isdigit() and len(typed["record"]) < 10:
            record = int(typed["record"])
        else:
            problems.append(f"Record: '{typed['record']}' is not a record number.")
    days: dict[str, dt.date | None] = {}
    for key, label in (("from", "From"), ("to", "To")):
        try:
            days[key] = parse_typed(typed[key], label)
        except ValueError as exc:
            problems.append(str(exc))
            days[key] = None
        else:
            typed[key] = typed_date(days[key]) if days[key] else ""
    if days["from"] and days["to"] and days["from"] > days["to"]:
        problems.append("From is after To: choose a From day on or before the To day.")
    chosen = EventFilter(action, typed["user"] or None, record, days["from"], days["to"])
    typed["action"] = action or ""
    return chosen, typed, problems


def _query(typed: dict[str, str]) -> str:
    return urlencode({k: v for k, v in typed.items() if v})


@router.get("/admin/audit")
@decided("administer")
async def audit_page(actor: ActorDep, request: Request) -> HTMLResponse:
    authorize(actor, "administer")
    text = request.query_params.get("page", "1")
    page = min(max(int(text), 1), 100_000) if text.isdigit() and len(text) < 7 else 1
    chosen, typed, problems = _filters(request.query_params)
    engine = engine_of(request)
    rows, total = list_events(engine, limit=PAGE, offset=(page - 1) * PAGE, chosen=chosen)
    actions, users = event_choices(engine)
    offered = sorted(set(actions) | set(KNOWN_ACTIONS), key=words)
    return render(
        request,
        "audit.html",
        422 if problems else 200,
        events=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE)),
        typed=typed,
        query=_query(typed),
        actions=[(a, words(a)) for a in offered],
        users=users,
        problems=problems,
    )


@router.get("/admin/audit.csv")
@decided("administer")
async def audit_csv(actor: ActorDep, request: Request) -> Response:
    authorize(actor, "administer")
    chosen, _, problems = _filters(request.query_params)
    if problems:
        raise ConfigurationError(" ".join(problems))
    text = export_events(engine_of(request), chosen)
    record_event(
        engine_of(request),
        actor.username,
        "audit_exported",
        detail=f"{text.count(chr(10)) - 1} events",
    )
    stamp = dt.date.today().isoformat()
    return Response(
        text,
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="flsdb-audit-{stamp}.csv"'},
    )
