"""Every KPI by region (ICB or Welsh health board), as published: one row per region, its FLSs
and records, and each KPI's percentage with its RAG rating; the region's national value last.
The cells are the region table's published rows, so a withheld count shows its marker."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flsdb.disclosure import is_hidden
from flsdb.reports.charts.base import count
from flsdb.reports.trends import absent

if TYPE_CHECKING:
    from flsdb.figures import PeriodFigures

# Three tables that fit an A4 page across, every KPI once: identification and the process to
# 90 days; treatment, follow-up and the higher-risk sites; falls.
PARTS = (
    ("kpi01", "kpi02", "kpi02_spine", "kpi02_non_spine", "kpi03", "kpi04", "kpi05"),
    ("kpi07", "kpi09", "kpi10", "kpi11", "hr01", "hr02", "hr03", "hr04"),
    ("kpi06", "kpi08", "fa01", "fa02"),
)
# Column heads: a KPI's name in a few words (the catalogue's full name is the head's title).
SHORT_NAMES = {
    "kpi01": "Data complete",
    "kpi02": "Identified",
    "kpi02_spine": "Spine identified",
    "kpi02_non_spine": "Non-spine identified",
    "kpi03": "Spine share",
    "kpi04": "Assessed by 90 days",
    "kpi05": "DXA by 90 days",
    "kpi06": "Falls assessed",
    "kpi07": "Therapy advised",
    "kpi08": "Strength and balance",
    "kpi09": "Monitored at 16 weeks",
    "kpi10": "Treated by follow-up",
    "kpi11": "Adherent at 1 year",
    "hr01": "Higher-risk share",
    "hr02": "Therapy advised, higher-risk",
    "hr03": "Started by 16 weeks, higher-risk",
    "hr04": "Anabolic first",
    "fa01": "Falls questions",
    "fa02": "Full falls assessment",
}


def short_name(kpi: str) -> str:
    return SHORT_NAMES.get(kpi, kpi)


@dataclass(frozen=True)
class Cell:
    text: str
    rag: str  # "", "green", "amber" or "red"


def cell(row: dict[str, object], kpi: str) -> Cell:
    """A region's value for one KPI in a few characters: '62.8', '<5', 'c', '–'."""
    if not row:
        return Cell("–", "")
    if absent(row.get("percent")):
        marks = [row.get(c) for c in ("numerator", "denominator") if is_hidden(row.get(c))]
        return Cell(str(marks[0]) if marks else "–", "")
    return Cell(f"{float(row['percent']):.1f}", str(row.get("rag") or ""))  # type: ignore[arg-type]


def region_rows(data: PeriodFigures) -> list[dict[str, object]]:
    """Per region (in nation then name order): its name, nation, FLSs with records, records."""
    services = data.services
    table = data.unsuppressed["service"]
    records = table[table["kpi"] == "kpi03"].set_index("unit")["denominator"].astype(float)
    rows: list[dict[str, object]] = []
    for code, group in services.groupby("region_code", sort=False):
        codes = list(group["service_code"])
        with_records = int((records.reindex(codes).fillna(0) > 0).sum())
        shown = data.row("region", str(code), "kpi03")
        rows.append(
            {
                "code": str(code),
                "name": str(group["region_name"].iloc[0]),
                "nation": str(group["nation"].iloc[0]).capitalize(),
                "fls": f"{with_records} of {len(codes)}",
                "records": count(shown.get("denominator")) if shown else "0",
            }
        )
    return sorted(rows, key=lambda r: (str(r["nation"]), str(r["name"])))


def region_tables(data: PeriodFigures) -> list[dict[str, object]]:
    """[{"kpis": [...], "rows": [(region, [Cell, ...]), ...], "nation": [Cell, ...]}]."""
    regions = region_rows(data)
    out: list[dict[str, object]] = []
    for kpis in PARTS:
        rows = [
            (region, [cell(data.row("region", str(region["code"]), k), k) for k in kpis])
            for region in regions
        ]
        national = [cell(data.row("nation", "all", k), k) for k in kpis]
        out.append({"kpis": kpis, "rows": rows, "nation": national})
    return out
