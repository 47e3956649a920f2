"""Build a report or a report set: the use case both front doors call, so that a report from
the web's download is the command line's (`flsdb report`) for the same period and FLS.

The figures of a period become publishable here, the same way for both: the national lock's
note (a period not locked is provisional) and, per FLS, the records whose site came from a 2023
FLS-DB label that lost detail. The files are then written by reports/' public entry
(`flsdb.reports`), the set's one check-then-write path.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine

from flsdb import reports
from flsdb.errors import ConfigurationError, NotFound
from flsdb.figures import compute_figures
from flsdb.kpi import parse_period
from flsdb.kpi.sources import source_from_database
from flsdb.services.access import Actor
from flsdb.services.events import record_event
from flsdb.services.locks import covering_lock
from flsdb.storage.provenance import sites_from_lost_labels

if TYPE_CHECKING:
    from flsdb.figures import PeriodFigures
    from flsdb.kpi.periods import Period
    from flsdb.reports import ReportSet

# What the web offers to download: (kind, format) -> the report set's output it is.
DOWNLOADS = {
    ("fls", "html"),
    ("fls", "pdf"),
    ("region", "html"),
    ("region", "pdf"),
    ("national", "html"),
    ("national", "pdf"),
    ("benchmark", "csv"),
}
MEDIA = {"html": "text/html", "pdf": "application/pdf", "csv": "text/csv"}


def national_lock(engine: Engine, period: Period) -> dict[str, Any] | None:
    """The active national lock covering the period, if any."""
    return covering_lock(engine, period.start, period.end)


def lock_note(lock: dict[str, Any]) -> str:
    """What a report says of its period's lock."""
    return f"period locked {lock['at'][:16].replace('T', ' ')} by {lock['by']}"


def pinned_extract(lock: dict[str, Any] | None, period: Period, as_of: dt.date | None) -> dt.date:
    """The extract date of a pinned report (reproducing a locked period's published figures):
    the day of the period's lock; refused when the period is not locked, or when another date
    is asked for."""
    if lock is None:
        raise ConfigurationError(
            f"--pinned: {period.label} is not locked, so its figures may still change; lock "
            "the year first (the Periods page of the web application)."
        )
    locked_on = dt.date.fromisoformat(lock["at"][:10])
    if as_of is not None and as_of != locked_on:
        raise ConfigurationError(
            f"--pinned uses the day of the lock ({locked_on}) as the extract date; leave out "
            "--as-of."
        )
    return locked_on


def publishable(data: PeriodFigures, engine: Engine) -> PeriodFigures:
    """The figures of a period computed from the database, with what its reports say about
    the database: the lock's note, and the sites that lost detail in 2023 labels."""
    period = data.period
    lock = national_lock(engine, period)
    return dataclasses.replace(
        data,
        lock_note=lock_note(lock) if lock is not None else "",
        lost_sites=sites_from_lost_labels(engine, period.start, period.end),
    )


def report_set(
    data: PeriodFigures,
    out: Path,
    engine: Engine | None,
    *,
    services: list[str] | None = None,
    regions: list[str] | None = None,
    fls_reports: bool = True,
    region_reports: bool = True,
    formats: tuple[str, ...] = ("html", "pdf"),
    jobs: int = 2,
) -> ReportSet:
    """The report set of the figures into `out` (`engine`: the database they came from, whose
    notes the reports carry; None for figures computed from files)."""
    return reports.build_reports(
        publishable(data, engine) if engine is not None else data,
        out,
        services=services,
        regions=regions,
        fls_reports=fls_reports,
        region_reports=region_reports,
        formats=formats,
        jobs=jobs,
    )


def figures_from_store(database_url: str, period_text: str, as_of: dt.date) -> PeriodFigures:
    """A period's figures computed from the stored records, as `flsdb report` computes them:
    for a report (the dashboards' figures from the maintained counts leave out what only the
    reports show: sites, reasons, earlier years, completeness), and for the dashboards of a
    store that keeps no maintained counts (run in their worker process)."""
    return compute_figures(source_from_database(database_url), parse_period(period_text), as_of)


def check_download(kind: str, unit: str, fmt: str) -> None:
    """NotFound unless the web offers this download (an FLS's or a region's report, or the
    national ones under `all`)."""
    if (kind, fmt) not in DOWNLOADS or (kind in ("national", "benchmark") and unit != "ALL"):
        raise NotFound("There is no such download.")


def download(
    engine: Engine, actor: Actor, data: PeriodFigures, kind: str, unit: str, fmt: str
) -> tuple[bytes, str]:
    """One file of the report set, as `flsdb report` writes it for the same figures (the FLS's
    or region's report, the national report, or the wide benchmark table), and its name; the
    export is audited. The caller has checked the actor's scope."""
    check_download(kind, unit, fmt)
    figures = publishable(data, engine)
    with tempfile.TemporaryDirectory(prefix="flsdb-download-") as folder:
        out = Path(folder)
        (out / "fls").mkdir()
        (out / "regions").mkdir()
        if kind == "benchmark":  # the first of the tables is the wide one, by FLS
            path = reports.build_report(figures, "tables", "", out, ())[0]
        else:
            path = reports.build_report(figures, kind, unit, out, (fmt,))[0]
        content, name = path.read_bytes(), path.name
    record_event(
        engine,
        actor.username,
        "export_report",
        service_code=unit if kind == "fls" else None,
        detail=name,
    )
    return content, name
