"""A region's report: its FLSs side by side with the region and the nation, as published."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from flsdb.figures import HEADLINE_KPIS, PeriodFigures
from flsdb.reports import charts
from flsdb.reports.national import cell_text
from flsdb.reports.render import safe_name, write_report

# The page's body is 184 mm wide (A4 less its margins); a chart is drawn that wide. Page 1 has
# room below the heading, the marks and the sentence before the table (at most about 50 mm of
# its 263 mm) for a chart this tall: there it fills page 1 and the table follows, so no page is
# left a quarter full with the table's last rows before a chart that needs a page of its own
# (review item 6: a region of six FLSs).
BODY_WIDTH_MM = 184.0
FIRST_PAGE_ROOM_MM = 205.0
_SIZE = re.compile(rb'<svg[^>]*?\swidth="([\d.]+)(?:pt)?"[^>]*?\sheight="([\d.]+)(?:pt)?"')


def printed_height_mm(image: bytes) -> float | None:
    """A drawing's height on the page when drawn the body's width (None: no size to read)."""
    found = _SIZE.search(image[:2000])
    if found is None or not float(found.group(1)):
        return None
    return BODY_WIDTH_MM * float(found.group(2)) / float(found.group(1))


def region_report(
    data: PeriodFigures, region: str, out: Path, formats: tuple[str, ...]
) -> list[Path]:
    members = data.services[data.services["region_code"] == region]
    codes = list(members["service_code"])
    rows = {c: {k: data.row("service", c, k) for k in data.catalogue.kpi_ids} for c in codes}
    region_rows = {k: data.row("region", region, k) for k in data.catalogue.kpi_ids}
    labels = {c: data.unit_name("service", c) for c in codes}
    chart = None
    if len(codes) > 1:  # with one FLS the table already says it all
        values = pd.DataFrame(
            {
                labels[c]: [
                    None if rows[c][k].get("percent") is None else float(rows[c][k]["percent"])  # type: ignore[arg-type]
                    for k in HEADLINE_KPIS
                ]
                for c in codes
            },
            index=list(HEADLINE_KPIS),
            dtype=float,
        )
        cells = pd.DataFrame(
            {labels[c]: [cell_text(rows[c][k]) for k in HEADLINE_KPIS] for c in codes},
            index=list(HEADLINE_KPIS),
        )
        chart = charts.grouped_bars(
            values, "Headline KPIs by FLS", cells, names={k: data.name(k) for k in HEADLINE_KPIS}
        )
    outliers = []
    # Never silently dropped: outliers whose counts are withheld are counted, not named.
    outliers_withheld = 0
    for kpi, result in data.inequities.items():
        for code in codes:
            flag = result.flag_of(code)
            if flag and flag != "inside" and result.shown[result.names.index(code)]:
                outliers.append((labels[code], f"{kpi} {data.name(kpi)}", flag))
            elif flag and flag != "inside":
                outliers_withheld += 1
    region_name = str(members["region_name"].iloc[0])
    context: dict[str, object] = dict(
        title=f"Region report: {region_name} ({region})",
        data=data,
        region_code=region,
        region_name=region_name,
        nation=members["nation"].iloc[0],
        codes=codes,
        labels=labels,
        rows=rows,
        region_rows=region_rows,
        chart=chart,
        chart_first=_fits_page_one(chart),
        outliers=outliers,
        outliers_withheld=outliers_withheld,
    )
    stem = out / "regions" / f"region-report-{safe_name(region)}-{data.period.label}"
    return write_report("region.html.j2", context, stem, formats)


def _fits_page_one(chart: charts.Graphic | None) -> bool:
    if chart is None:
        return False
    height = printed_height_mm(chart.image)
    return height is not None and height <= FIRST_PAGE_ROOM_MM
