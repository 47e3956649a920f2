"""The period and extract date a dashboard or download asks for (`?period=`, `?as_of=`), and
the figures of that period with a note on the page when records changed since they were
computed, or their last refresh failed."""

from __future__ import annotations

import datetime as dt

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from flsdb.figures import PeriodFigures
from flsdb.services.dashboards import figures
from flsdb.web.common import engine_of, kpi_context
from flsdb.web.dates import parse_typed


def period_and_date(request: Request) -> tuple[str, dt.date, str | None]:
    period = request.query_params.get("period")
    if period is None:  # the latest year with records (a scan of the records: only when asked)
        years = kpi_context(request)["years"]
        period = years[0] if years else str(dt.date.today().year - 1)
    period = period[:20]
    text = request.query_params.get("as_of", "")[:10]
    try:  # DD/MM/YYYY as typed in the page, or ISO (the download links' own form)
        as_of = parse_typed(text, "Data as of") or dt.date.today()
    except ValueError as exc:
        return period, dt.date.today(), str(exc)
    return period, as_of, None


async def period_figures(request: Request, period: str, as_of: dt.date) -> PeriodFigures:
    """The figures; a page that shows them says when they were computed if records changed
    since (they refresh at most every `refresh_seconds` while edits keep coming)."""
    found = await run_in_threadpool(
        figures,
        request.app.state.dashboards,
        request.app.state.settings.database_url,
        engine_of(request),
        period,
        as_of,
    )
    if found.stale or found.refresh_failed:
        when = (
            dt.datetime.fromtimestamp(found.computed_at).strftime("%H:%M:%S")
            if found.stale
            else None
        )
        current = "counts" if found.counts_current else None
        request.state.stale_parts = (when, current, found.refresh_failed)
        request.state.stale = _stale_notice(request, *request.state.stale_parts)
    return found.data


# How a notice of figures computed before the latest changes starts, by what is current.
_STARTS = {
    None: "These figures were computed at {when}; records changed since. New figures are ",
    "counts": "The KPI values are current; the charts were computed at {when}: records "
    "changed since. New figures are ",
    "own": "This FLS's KPI values are current; the rest was computed at {when}; records "
    "changed since. New figures are ",
}


def _stale_notice(request: Request, when: str | None, current: str | None, failed: bool) -> str:
    """The page's notice: when the figures were computed (if records changed since), what is
    current all the same, and whether the last computation of new ones failed."""
    notice = ""
    if when is not None:
        notice = (
            f"{_STARTS[current].format(when=when)}computed at most every "
            f"{request.app.state.dashboards.refresh_seconds:.0f} seconds while records change, "
            "and take a little while: reload the page to see them."
        )
    if failed:
        notice = (
            f"{notice} The last computation of new figures failed (the server log says why); "
            "these are the figures computed before."
        ).strip()
    return notice


def note_own_rows_current(request: Request) -> None:
    """The notice once an FLS's own KPI values were brought up to date (`own_rows_now`):
    where nothing was current before, it says they are."""
    when, current, failed = request.state.stale_parts
    if when is not None and current is None:
        request.state.stale = _stale_notice(request, when, "own", failed)
