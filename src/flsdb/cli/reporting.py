"""`flsdb report`: the national report, FLS and region reports, and benchmark tables."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from flsdb.cli.console import err, out, progress_bar
from flsdb.cli.data import DbOption
from flsdb.cli.measure import open_source, parse_date
from flsdb.kpi import parse_period
from flsdb.reports.build import ReportSet, build_reports
from flsdb.reports.data import collect


def report(
    period: Annotated[str, typer.Option(help="2024, 2024-Q1 or 2024-03.")],
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for the reports and tables.")
    ] = Path("flsdb-reports"),
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Extract date YYYY-MM-DD (default: today).")
    ] = None,
    suppression: Annotated[
        bool,
        typer.Option(
            "--suppression/--no-suppression",
            help="Show "
            "counts of 1 to 4 as <5 in national and region outputs (turn off "
            "for internal use only).",
        ),
    ] = True,
    fls: Annotated[
        list[str] | None,
        typer.Option("--fls", help="Only these FLS reports (repeatable; default: every FLS)."),
    ] = None,
    regions: Annotated[bool, typer.Option("--regions/--no-regions", help="Region reports.")] = True,
    pdf: Annotated[bool, typer.Option("--pdf/--no-pdf", help="PDF besides HTML.")] = True,
    jobs: Annotated[int, typer.Option(help="Processes for FLS and region reports.")] = max(
        1, min(4, os.cpu_count() or 1)
    ),
    records: Annotated[
        Path | None, typer.Option("--records", help="Records file instead of the database.")
    ] = None,
    services: Annotated[
        Path | None, typer.Option("--services", help="Services file to go with --records.")
    ] = None,
    db: DbOption = None,
) -> None:
    """Write the annual report set for a period (HTML and PDF) and the benchmark tables."""
    source = open_source(records, services, db)
    with progress_bar() as progress:
        task = progress.add_task("computing KPIs", total=None)
        data = collect(source, parse_period(period), parse_date(as_of, "--as-of"))
        progress.update(task, description="writing reports")
        result = build_reports(
            data,
            out_dir,
            suppression=suppression,
            services=[c.upper() for c in fls] if fls else None,
            regions=regions,
            formats=("html", "pdf") if pdf else ("html",),
            jobs=jobs,
        )
    print_report_set(result, data.records, data.services_with_records)


def print_report_set(result: ReportSet, records: int, services: int) -> None:
    err.print(f"{records:,} records from {services} FLSs.")
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
