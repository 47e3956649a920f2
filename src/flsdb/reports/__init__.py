"""Outputs: the report set (national, FLS and region reports, benchmark tables) and the KPI
tables as CSV, JSON and XLSX, and the methodology document.

This module is reports/' public entry: the layer above (the report use case,
`flsdb.services.report_files`) calls these functions and nothing deeper, so that both front
doors build reports by one path. They import their modules when called: the report machinery
(matplotlib, the PDF writer) is loaded only by what writes reports.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from flsdb.figures import PeriodFigures
    from flsdb.reports.build import ReportSet

__all__ = ["ReportSet", "build_report", "build_reports", "choose_units"]


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
) -> ReportSet:
    """The report set into `out`: every FLS's and region's report (or those asked for), the
    national report and the benchmark tables, checked before anything is written."""
    from flsdb.reports.build import build_reports as build

    return build(
        data,
        out,
        services=services,
        regions=regions,
        fls_reports=fls_reports,
        region_reports=region_reports,
        formats=formats,
        jobs=jobs,
    )


def build_report(
    data: PeriodFigures, kind: str, unit: str, out: Path, formats: tuple[str, ...]
) -> list[Path]:
    """One output of the set ("national", "tables", "fls" or "region") into `out`, by the same
    check and writer as the set."""
    from flsdb.reports.build import build_report as build

    return build(data, kind, unit, out, formats)


def choose_units(
    table: pd.DataFrame, services: list[str] | None, regions: list[str] | None
) -> tuple[list[str], list[str]]:
    """The FLS and region codes to report on (all when not given); unknown codes refuse."""
    from flsdb.reports.build import choose_units as choose

    return choose(table, services, regions)


def __getattr__(name: str) -> object:
    """The types named in `__all__`, for annotations above this package."""
    if name == "ReportSet":
        from flsdb.reports.build import ReportSet

        return ReportSet
    raise AttributeError(name)
