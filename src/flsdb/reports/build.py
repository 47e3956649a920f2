"""Build the report set: national, per FLS, per region, and the benchmark tables.

Everything is checked before anything is written (unknown FLS or region codes refuse the whole
run). Unsuppressed output (suppression off) goes under `internal/`, marked not for publication;
so does every FLS's own report (`internal/fls/`), whose own counts are unsuppressed.
The files are written to a hidden folder beside their place and moved there only when all are
done, so a failed run (a full disk, an error) leaves no partial report set.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from flsdb.disclosure import find_disclosures, protect_tables
from flsdb.errors import ConfigurationError, FlsdbError
from flsdb.figures import PeriodFigures, audited
from flsdb.reports.benchmark import write_benchmark
from flsdb.reports.fls import fls_report
from flsdb.reports.marking import NOTE, note_name
from flsdb.reports.national import national_report
from flsdb.reports.outliers import note as outliers_note
from flsdb.reports.outliers import write_outliers
from flsdb.reports.published_counts import withhold_linked
from flsdb.reports.region import region_report

INTERNAL = "internal"
INTERNAL_NOTE = (
    "NOT FOR PUBLICATION\n\nThe files in this folder show counts of 1 to 4 patients without "
    "suppression. They are for internal use by the audit team only: publish the suppressed "
    "outputs instead (run without --no-suppression).\n"
)
FLS_NOTE = (
    "NOT FOR PUBLICATION\n\nfls/ holds each FLS's own report, for that FLS only: its own counts "
    "are shown in full, unsuppressed (counts of 1 to 4 included), beside its region and the "
    "nation as published. Send each FLS its own report; publish none of them.\n"
)


@dataclass
class ReportSet:
    folder: Path
    national: list[Path] = field(default_factory=list)
    services: dict[str, list[Path]] = field(default_factory=dict)
    regions: dict[str, list[Path]] = field(default_factory=dict)
    tables: list[Path] = field(default_factory=list)
    # For the audit team only (unsuppressed): every funnel outlier, under `internal/`.
    internal: list[Path] = field(default_factory=list)


def _match(wanted: list[str], known: list[str], what: str, option: str) -> list[str]:
    """The known codes asked for (matched regardless of case); unknown ones refuse."""
    lookup = {k.casefold(): k for k in known}
    missing = [w for w in wanted if w.strip().casefold() not in lookup]
    if missing:
        raise ConfigurationError(
            f"Unknown {what} {', '.join(missing)} for {option}: the services table has "
            f"{len(known)} ({', '.join(known[:6])}{', ...' if len(known) > 6 else ''})."
        )
    return [lookup[w.strip().casefold()] for w in wanted]


def choose_units(
    table: pd.DataFrame, services: list[str] | None, regions: list[str] | None
) -> tuple[list[str], list[str]]:
    """The FLS and region codes to report on (all when not given) from the services table;
    unknown codes refuse."""
    all_services = sorted(table["service_code"])
    all_regions = sorted(table["region_code"].unique())
    chosen_services = (
        all_services if services is None else _match(services, all_services, "FLS", "--fls")
    )
    chosen_regions = (
        all_regions if regions is None else _match(regions, all_regions, "region", "--region")
    )
    return chosen_services, chosen_regions


@dataclass(frozen=True)
class _Job:
    data: PeriodFigures
    out: Path
    formats: tuple[str, ...]


# Set before the worker processes fork, so that they share the data without pickling it.
_SHARED: dict[str, _Job] = {}
# The PDF writer makes millions of short-lived objects a report (boxes, styles, text layouts):
# a collection of the youngest generation every 700 of them cost about a tenth of a report's
# CPU time. While reports are written the collector runs every 50,000 (an FLS report: 0.85 to
# 0.92 CPU s with the default, 0.78 to 0.85 with this; about 50 MB more memory per process).
_REPORT_GC = (50_000, 10, 10)


def _worker_start() -> None:
    """A pool worker's setting, for the reports it writes (it ends with the pool)."""
    gc.set_threshold(*_REPORT_GC)


@contextmanager
def _report_gc() -> Iterator[None]:
    """The reports' collector setting in this process, the caller's restored after."""
    before = gc.get_threshold()
    gc.set_threshold(*_REPORT_GC)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _job(task: tuple[str, str]) -> tuple[str, str, list[Path]]:
    kind, unit = task
    job = _SHARED["job"]
    # An FLS's own report is unsuppressed for it: never beside the published files.
    where = job.out / INTERNAL if kind == "fls" and job.data.suppression else job.out
    return kind, unit, write_report(job.data, kind, unit, where, job.formats)


def write_report(
    data: PeriodFigures, kind: str, unit: str, out: Path, formats: tuple[str, ...]
) -> list[Path]:
    """One output of the set into `out`: the national report, the benchmark tables ("tables"),
    an FLS's ("fls") or a region's ("region") report. The report set's workers call it, and so
    does `build_report`."""
    if kind == "national":
        return national_report(data, out, formats)
    if kind == "tables":
        return write_benchmark(data, out)
    if kind == "fls":
        return fls_report(data, unit, out, formats)
    if kind == "region":
        return region_report(data, unit, out, formats)
    raise ValueError(f"no such report: {kind}")


def check_publishable(
    data: PeriodFigures, protect: Callable[..., dict[str, pd.DataFrame]] | None = None
) -> PeriodFigures:
    """The figures as they may be published, proven by the intruder's audit (`audited`: its
    search by `protect`, default `disclosure.protect_tables`, may withhold more), then an
    independent check of the published cells, then the counts published beside the KPI
    tables audited with them (`published_counts.withhold_linked`); FlsdbError, in one
    sentence, before anything is written when any fails. Figures without suppression
    (internal reports) pass as they are."""
    if not data.suppression:
        return data
    data = audited(data, protect=protect or protect_tables)
    problems = find_disclosures(data.published, data.services, data.thresholds.suppression)
    if problems:
        raise FlsdbError(
            f"Disclosure check failed ({problems[0]}; {len(problems)} in all); nothing was "
            "written. Please report this."
        )
    # The counts published beside the KPI tables (fracture sites, reasons, Appendix B), in the
    # same audit with every relation to them: withheld further where it must.
    withhold_linked(data)
    return data


def build_report(
    data: PeriodFigures, kind: str, unit: str, out: Path, formats: tuple[str, ...]
) -> list[Path]:
    """One output of the report set (see `write_report`), built as `build_reports` builds it:
    the unit checked against the services table, the same check before anything is written,
    the same writer."""
    if kind == "fls":
        choose_units(data.services, [unit], [])
    elif kind == "region":
        choose_units(data.services, [], [unit])
    data = check_publishable(data)
    return write_report(data, kind, unit, out, formats)


def build_reports(
    data: PeriodFigures,
    out: Path,
    *,
    services: list[str] | None = None,
    regions: list[str] | None = None,
    fls_reports: bool = True,
    region_reports: bool = True,
    formats: tuple[str, ...] = ("html", "pdf"),
    jobs: int = 2,
    protect: Callable[..., dict[str, pd.DataFrame]] | None = None,
) -> ReportSet:
    """Write every report; FLS and region reports run in `jobs` processes (forked, sharing
    `data`). `services` and `regions` pick which FLS and region reports (default: all).
    Published data pass the intruder's audit first (`figures.audited`, its search by
    `protect`, default `disclosure.protect_tables`), or nothing is written."""
    codes, region_codes = choose_units(data.services, services, regions)
    data = check_publishable(data, protect)
    final = out if data.suppression else out / INTERNAL
    final.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=".flsdb-writing-", dir=final))
    try:
        written = _write_all(
            data, folder, codes, region_codes, fls_reports, region_reports, formats, jobs
        )
        written = _publish(written, folder, final, note_name(data))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return written


def _publish(written: ReportSet, folder: Path, final: Path, note: str) -> ReportSet:
    """Move every written file from the hidden folder to its place (renames, so at once);
    `note` is the folders' note's name."""

    def moved(path: Path) -> Path:
        target = final / path.relative_to(folder)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
        return target

    result = ReportSet(final)
    for readme in (folder / note, folder / INTERNAL / note):
        target = final / readme.relative_to(folder)
        if readme.exists() and target.exists():
            # A note already there (the demo's, or an earlier run's) keeps what it says.
            kept, new = target.read_text(encoding="utf-8"), readme.read_text(encoding="utf-8")
            readme.write_text(kept if new in kept else kept.rstrip() + "\n\n" + new, "utf-8")
        if readme.exists():
            moved(readme)
    result.national = [moved(p) for p in written.national]
    result.tables = [moved(p) for p in written.tables]
    result.services = {k: [moved(p) for p in v] for k, v in written.services.items()}
    result.regions = {k: [moved(p) for p in v] for k, v in written.regions.items()}
    result.internal = [_merged_note(p, final / p.relative_to(folder)) for p in written.internal]
    return result


def _merged_note(path: Path, target: Path) -> Path:
    """Move an internal file to its place; a README already there (another command's note on
    the same folder) keeps its text, with this one's added."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if path.name.endswith(NOTE) and target.exists():
        before = target.read_text(encoding="utf-8")
        added = path.read_text(encoding="utf-8")
        if added not in before:
            target.write_text(before.rstrip("\n") + "\n\n" + added, encoding="utf-8")
        path.unlink()
        return target
    os.replace(path, target)
    return target


def _write_all(
    data: PeriodFigures,
    folder: Path,
    codes: list[str],
    region_codes: list[str],
    fls_reports: bool,
    region_reports: bool,
    formats: tuple[str, ...],
    jobs: int,
) -> ReportSet:
    internal = folder if not data.suppression else folder / INTERNAL
    readme = note_name(data)
    (folder / "regions").mkdir(parents=True, exist_ok=True)
    if not data.suppression:
        (folder / readme).write_text(INTERNAL_NOTE + "\n" + FLS_NOTE, encoding="utf-8")
    if fls_reports and codes:
        (internal / "fls").mkdir(parents=True, exist_ok=True)
        if data.suppression:
            (internal / readme).write_text(FLS_NOTE, encoding="utf-8")
    result = ReportSet(folder)
    # The national report is the longest task: start it first so the workers finish together.
    tasks = [("national", ""), ("tables", "")]
    if fls_reports:
        tasks += [("fls", code) for code in codes]
    if region_reports:
        tasks += [("region", r) for r in region_codes]
    _SHARED["job"] = _Job(data, folder, formats)
    if jobs > 1 and len(tasks) > 1 and "pdf" in formats:
        # lazy: the PDF writer (about 0.4 CPU s), imported once here before the workers fork
        # rather than by each of them; only PDFs need it. Its fonts are still set up in each
        # worker (a font library's state is not safe to share across a fork).
        import weasyprint  # noqa: F401
    # The data are read, never changed, by every report: out of the garbage collector's sight
    # while the reports are written they cost no collection passes (and no copy-on-write in
    # the forked workers). No full collection first (it cost 0.15 to 0.45 CPU s in a large
    # process, every set): what is frozen is back in the collector's sight after, garbage
    # included, so nothing stays frozen for good.
    gc.freeze()
    try:
        if jobs > 1 and len(tasks) > 1:
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(
                max_workers=jobs, mp_context=context, initializer=_worker_start
            ) as pool:
                done = list(pool.map(_job, tasks, chunksize=1))
        else:
            with _report_gc():
                done = [_job(task) for task in tasks]
    finally:
        gc.unfreeze()
    # Every outlier, named with its counts and limits, for the audit team's private
    # notification: unsuppressed, so under internal/ (beside its note) when the rest is public.
    internal = folder / INTERNAL if data.suppression else folder
    if data.suppression:
        # One note for the folder (moved by `_publish`, which keeps a note already there).
        internal.mkdir(exist_ok=True)
        note = internal / readme
        before = note.read_text(encoding="utf-8").rstrip() + "\n\n" if note.exists() else ""
        note.write_text(before + outliers_note(data), encoding="utf-8")
    result.internal.append(write_outliers(data, internal))
    for kind, unit, paths in done:
        if kind == "national":
            result.national = paths
        elif kind == "tables":
            result.tables = paths
        else:
            (result.services if kind == "fls" else result.regions)[unit] = paths
    return result
