"""`flsdb report`: the national report, FLS and region reports, and benchmark tables."""

from __future__ import annotations

import enum
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from flsdb.cli.console import note, out, progress_bar
from flsdb.cli.measure import check_as_of, open_source
from flsdb.cli.options import (
    AsOfOption,
    ConfigOption,
    DbOption,
    FunnelMethod,
    Overdispersion,
    PeriodOption,
    RecordsOption,
    ServicesOption,
    parse_date,
)
from flsdb.errors import ConfigurationError

if TYPE_CHECKING:
    from flsdb.config import Thresholds
    from flsdb.reports.build import ReportSet


class SpcChart(enum.StrEnum):
    p = "p"
    pprime = "pprime"


_RANGE = re.compile(r"^(\d{4}-(?:0[1-9]|1[0-2])):(\d{4}-(?:0[1-9]|1[0-2]))$")


def spc_baseline(text: str) -> dict[str, object]:
    """`12` (the first 12 months shown) or `2023-01:2023-12` (those months)."""
    text = text.strip()
    if text.isdigit() and int(text) >= 2:
        return {"baseline_months": int(text), "baseline_from": None, "baseline_to": None}
    match = _RANGE.match(text)
    if match and match.group(1) <= match.group(2):
        return {"baseline_months": None, "baseline_from": match[1], "baseline_to": match[2]}
    raise typer.BadParameter(
        f"'{text}' is not a baseline: give a number of months (at least 2) or a range of "
        "months such as 2023-01:2023-12",
        param_hint="--spc-baseline",
    )


def tuned(
    thresholds: Thresholds,
    funnel_method: FunnelMethod | None,
    overdispersion: Overdispersion | None,
    suppression_threshold: int | None,
    baseline: str | None,
    chart: SpcChart | None,
) -> Thresholds:
    """The thresholds with the command line's choices over them."""
    funnel = thresholds.funnel.model_copy(
        update={
            k: v.value
            for k, v in (("method", funnel_method), ("overdispersion", overdispersion))
            if v is not None
        }
    )
    spc_changes: dict[str, object] = spc_baseline(baseline) if baseline else {}
    if chart is not None:
        spc_changes["chart"] = chart.value
    suppression = thresholds.suppression
    if suppression_threshold is not None:
        suppression = suppression.model_copy(update={"below": suppression_threshold})
    return thresholds.model_copy(
        update={
            "funnel": funnel,
            "spc": thresholds.spc.model_copy(update=spc_changes),
            "suppression": suppression,
        }
    )


def report(
    period: PeriodOption,
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for the reports and tables.")
    ] = Path("flsdb-reports"),
    as_of: AsOfOption = None,
    suppression: Annotated[
        bool,
        typer.Option(
            "--suppression/--no-suppression",
            help="Suppress small counts in national and region outputs. --no-suppression is "
            "for internal use: its outputs go under OUT/internal/, marked not for publication.",
        ),
    ] = True,
    suppression_threshold: Annotated[
        int | None,
        typer.Option(
            "--suppression-threshold",
            min=1,
            max=100,
            help="Counts from 1 to this minus 1 are suppressed (default from the thresholds: 5).",
        ),
    ] = None,
    fls: Annotated[
        list[str] | None,
        typer.Option("--fls", help="Only these FLS reports (repeatable; default: every FLS)."),
    ] = None,
    region: Annotated[
        list[str] | None,
        typer.Option(
            "--region", help="Only these region reports (repeatable; default: every region)."
        ),
    ] = None,
    fls_reports: Annotated[
        bool, typer.Option("--fls-reports/--no-fls-reports", help="FLS reports.")
    ] = True,
    region_reports: Annotated[
        bool, typer.Option("--region-reports/--no-region-reports", help="Region reports.")
    ] = True,
    funnel_method: Annotated[
        FunnelMethod | None,
        typer.Option(
            "--funnel-method", help="Funnel limits (default from the thresholds: arcsine)."
        ),
    ] = None,
    overdispersion: Annotated[
        Overdispersion | None,
        typer.Option(
            "--overdispersion",
            help="Overdispersion adjustment of the funnels (default from the thresholds: "
            "additive).",
        ),
    ] = None,
    spc_baseline_option: Annotated[
        str | None,
        typer.Option(
            "--spc-baseline",
            help="SPC baseline: a number of months from the first shown (default 12), or "
            "YYYY-MM:YYYY-MM.",
        ),
    ] = None,
    spc_chart: Annotated[
        SpcChart | None,
        typer.Option("--spc-chart", help="p, or pprime (Laney) for large monthly denominators."),
    ] = None,
    pinned: Annotated[
        bool,
        typer.Option(
            "--pinned",
            help="Reproduce a locked period's published figures: the extract date becomes the "
            "day of the lock; refused when the period is not locked.",
        ),
    ] = False,
    pdf: Annotated[bool, typer.Option("--pdf/--no-pdf", help="PDF besides HTML.")] = True,
    jobs: Annotated[int, typer.Option(min=1, max=64, help="Processes for the reports.")] = max(
        1, min(4, os.cpu_count() or 1)
    ),
    records: RecordsOption = None,
    services: ServicesOption = None,
    config: ConfigOption = None,
    db: DbOption = None,
) -> None:
    """Write the report set for a period (HTML and PDF) and the benchmark tables."""
    from flsdb.config import load_thresholds
    from flsdb.figures import compute_figures
    from flsdb.kpi import parse_period
    from flsdb.reports import choose_units
    from flsdb.services import report_files
    from flsdb.storage import open_existing

    chosen_period = parse_period(period)
    extract = parse_date(as_of, "--as-of")
    if spc_baseline_option:
        spc_baseline(spc_baseline_option)  # refuse a bad value before any work
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigurationError(f"--out {out_dir} is a file; give a folder for the reports.")
    thresholds = tuned(
        load_thresholds(config),
        funnel_method,
        overdispersion,
        suppression_threshold,
        spc_baseline_option,
        spc_chart,
    )
    engine = None
    if records is None:
        engine = open_existing(db)
        lock = report_files.national_lock(engine, chosen_period)
        if pinned:
            extract = report_files.pinned_extract(lock, chosen_period, extract if as_of else None)
        if lock is None:
            note(f"{chosen_period.label} is not locked: its records may still change.")
        else:
            note(
                f"{lock['period']} was locked on {lock['at'][:16].replace('T', ' ')} by "
                f"{lock['by']}: its records cannot change."
            )
    elif pinned:
        raise ConfigurationError("--pinned works on the database, not on --records files.")
    check_as_of(chosen_period, extract)
    source = open_source(records, services, db)
    # Unknown codes refuse now, before any work or output.
    codes, region_codes = choose_units(source.services, fls or None, region or None)
    wanted_fls = codes if fls else None
    wanted_regions = region_codes if region else None
    with progress_bar() as progress:
        task = progress.add_task("computing KPIs", total=None)
        data = compute_figures(
            source, chosen_period, extract, thresholds=thresholds, suppression=suppression
        )
        progress.update(task, description="writing reports")
        # The same use case as the web's download: the lock's note and the 2023 site note
        # from the database, then reports/' one check-then-write path.
        result = report_files.report_set(
            data,
            out_dir,
            engine,
            services=wanted_fls,
            regions=wanted_regions,
            fls_reports=fls_reports,
            region_reports=region_reports,
            formats=("html", "pdf") if pdf else ("html",),
            jobs=jobs,
        )
    print_report_set(result, data.records, data.services_with_records)


def print_report_set(result: ReportSet, records: int, services: int) -> None:
    note(f"{records:,} records from {services} FLSs.")
    if result.folder.name == "internal":
        note(f"Not suppressed: everything is under {result.folder}, marked not for publication.")
    out.print("National report: " + ", ".join(str(p) for p in result.national))
    if result.services:
        first = next(iter(result.services.values()))
        out.print(
            f"FLS reports: {len(result.services)} (for example {', '.join(str(p) for p in first)})"
        )
    if result.regions:
        first = next(iter(result.regions.values()))
        out.print(
            f"Region reports: {len(result.regions)} (for example "
            f"{', '.join(str(p) for p in first)})"
        )
    out.print("Benchmark tables: " + ", ".join(str(p) for p in result.tables))
    outliers = [p for p in result.internal if p.suffix == ".csv"]
    if outliers:
        out.print(f"Every outlier, for the audit team only: {outliers[0]}")
