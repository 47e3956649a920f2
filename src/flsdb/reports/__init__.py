"""Outputs: the report set (national, FLS and region reports, benchmark tables) and the KPI
tables as CSV, JSON and XLSX, and the methodology document.

This module is reports/' public entry: the layer above (the report use case,
`flsdb.services.report_files`) calls these functions and nothing deeper, so that both front
doors build reports by one path: `build_reports` (the report set into a folder: every FLS's and
region's report, or those asked for, the national report and the benchmark tables, checked
before anything is written), `build_report` (one output of the set, by the same check and
writer), `choose_units` (the FLS and region codes to report on; unknown codes refuse). They are
loaded on first use (`flsdb._lazy`), as kpi's and storage's exports: the report machinery
(the charts, the PDF writer) is loaded only by what writes reports, not by `import
flsdb.reports.kpi_tables`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flsdb._lazy import lazy_exports

if TYPE_CHECKING:
    from flsdb.reports.build import ReportSet, build_report, build_reports, choose_units

_HOMES = {name: "build" for name in ("ReportSet", "build_report", "build_reports", "choose_units")}
__all__ = ["ReportSet", "build_report", "build_reports", "choose_units"]

__getattr__ = lazy_exports(__name__, _HOMES)
