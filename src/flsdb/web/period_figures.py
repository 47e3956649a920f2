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
    if found.stale:
        when = dt.datetime.fromtimestamp(found.computed_at).strftime("%H:%M:%S")
        start = (
            f"The KPI values are current; the charts were computed at {when}: records "
            "changed since. New figures are "
            if found.counts_current
            else f"These figures were computed at {when}; records changed since. New figures are "
        )
        request.state.stale = (
            f"{start}computed at most every "
            f"{request.app.state.dashboards.refresh_seconds:.0f} seconds while records change, "
            "and take a little while: reload the page to see them."
        )
    if found.refresh_failed:
        request.state.stale = (
            f"{getattr(request.state, 'stale', '')} The last computation of new figures "
            "failed (the server log says why); these are the figures computed before."
        ).strip()
    return found.data
