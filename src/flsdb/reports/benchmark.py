"""The benchmark table people read: one row per FLS (name, code, region, nation, records) and,
per KPI, the count, denominator, percent, RAG and the FLS's 95% rank interval (from, to; never a
single rank on the point estimate), under the national values;
written as CSV and as XLSX with number formats, beside the long tables."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from flsdb.reports.data import ReportData
from flsdb.reports.kpi_tables import (
    NOT_FOR_PUBLICATION,
    RAG_COLOURS,
    add_long_sheet,
    kpi_csv,
    styles_for,
    write_definitions,
    write_heading,
)
from flsdb.sheets import csv_frame, plain_number, write_cell, xlsx_workbook
from flsdb.stats.ranks import rank_intervals

PARTS = ("n", "N", "%", "RAG", "rank from", "rank to")
IDENTITY = ("FLS", "code", "region", "region code", "nation", "period", "as of", "records")


def heading(data: ReportData) -> list[str]:
    suppressed = (
        f"Counts of 1 to {data.thresholds.suppression.below - 1} show as "
        f"{data.thresholds.suppression.label}; c marks a count withheld so that none can be "
        "worked out by subtraction; their percentages are removed."
        if data.suppression
        else "Small counts are not suppressed."
    )
    return [
        f"FLS audit benchmark, period {data.period.label}",
        f"Data as of {data.as_of.isoformat()}; {data.records:,} records from "
        f"{data.services_with_records} FLSs; caseload: {data.caseload_method}.",
        suppressed + " Rank from, rank to: the 95% interval of the FLS's rank among FLSs with a "
        "published value (1 is the best), by simulation from its counts; FLSs whose intervals "
        "overlap cannot be told apart.",
        f"Thresholds: {data.thresholds.source}.",
        "kpi01 (data completeness): n is the FLS's key fields more than 20% missing, of N key "
        "fields; England and Wales' share of FLSs with green completeness is in the nations "
        "table.",
    ]


def _ranks(data: ReportData, kpi: str) -> dict[str, tuple[int, int]]:
    """Each FLS's 95% rank interval (1 = best) among those with a published value; none for
    kpi01 (it counts key fields) or a measure with no better direction. kpi02 and its parts
    are ranked as rates of records over the expected caseload."""
    measure = data.measure(kpi)
    if measure.direction == "neither" or measure.kind == "completeness":
        return {}
    raw = data.tables["service"][data.tables["service"]["kpi"] == kpi].set_index("unit")
    shown = data.shown["service"][data.shown["service"]["kpi"] == kpi].set_index("unit")
    units, numerators, denominators = [], [], []
    for unit, row in raw.iterrows():
        if shown.loc[str(unit), "percent"] is None or row["denominator"] in (None, 0):
            continue
        units.append(str(unit))
        numerators.append(float(row["numerator"]))
        denominators.append(float(row["denominator"]))
    intervals = rank_intervals(
        numerators,
        denominators,
        measure.direction == "higher",
        rate=data.measure(kpi).kind == "caseload" or kpi.startswith("kpi02"),
    )
    return dict(zip(units, intervals, strict=True))


def _identity(data: ReportData, level: str, unit: str) -> list[object]:
    when = [data.period.label, data.as_of.isoformat()]
    if level == "nation":
        return [data.unit_name("nation", unit), unit, "", "", "", *when, None]
    info = data.service_info(unit)
    return [
        info["service_name"],
        unit,
        info["region_name"],
        info["region_code"],
        str(info["nation"]).title(),
        *when,
        None,
    ]


def benchmark_frame(data: ReportData) -> pd.DataFrame:
    """The wide table: national rows first, then every FLS, in code order."""
    kpis = data.catalogue.kpi_ids
    ranks = {kpi: _ranks(data, kpi) for kpi in kpis}
    rows = []
    units = [("nation", "all"), ("nation", "england"), ("nation", "wales")]
    units += [("service", code) for code in data.services["service_code"]]
    for level, unit in units:
        table = data.shown[level]
        cells = table[table["unit"] == unit].set_index("kpi")
        row = _identity(data, level, unit)
        row[-1] = (
            plain_number(cells.loc["kpi03", "denominator"]) if "kpi03" in cells.index else None
        )
        for kpi in kpis:
            cell = cells.loc[kpi] if kpi in cells.index else None
            # One meaning per column: kpi01's n and N are an FLS's key fields (more than 20%
            # missing, of 17) and its % would be a share of fields; a nation's kpi01 counts FLSs
            # instead, so it stays in the nations table, not in these columns.
            if kpi == "kpi01" and cell is not None:
                cell = cell.copy()
                cell["percent"] = None
                if level == "nation":
                    cell[["numerator", "denominator", "rag"]] = None
            if cell is None:
                row += [None] * len(PARTS)
                continue
            rank = ranks[kpi].get(unit) if level == "service" else None
            percent = cell["percent"]
            row += [
                plain_number(cell["numerator"]),
                plain_number(cell["denominator"]),
                None if percent is None else float(str(percent)),  # 41.0, as the long tables
                cell["rag"],
                *(rank if rank is not None else (None, None)),
            ]
        rows.append(row)
    columns = [*IDENTITY, *(f"{kpi} {part}" for kpi in kpis for part in PARTS)]
    frame = pd.DataFrame(rows, columns=columns, dtype=object)
    return frame.where(frame.notna(), None)


def _wide_sheet(book: object, data: ReportData, frame: pd.DataFrame, styles: dict) -> None:
    sheet = book.add_worksheet("FLS benchmark")  # type: ignore[attr-defined]
    lines = ([NOT_FOR_PUBLICATION] if not data.suppression else []) + heading(data)
    top = write_heading(sheet, lines, styles, not data.suppression)
    kpis = data.catalogue.kpi_ids
    for c, column in enumerate(IDENTITY):
        sheet.merge_range(top, c, top + 1, c, column, styles["header"])
    for k, kpi in enumerate(kpis):
        first = len(IDENTITY) + k * len(PARTS)
        sheet.merge_range(
            top, first, top, first + len(PARTS) - 1, f"{kpi} {data.name(kpi)}", styles["header"]
        )
        for p, part in enumerate(PARTS):
            write_cell(sheet, top + 1, first + p, part, styles["header"])
    formats = {"n": styles["numerator"], "N": styles["denominator"], "%": styles["percent"]}
    for r, row in enumerate(frame.itertuples(index=False), start=top + 2):
        for c, value in enumerate(row):
            column = frame.columns[c]
            part = column.rsplit(" ", 1)[-1] if c >= len(IDENTITY) else ""
            style = formats.get(part)
            if part == "RAG" and value in RAG_COLOURS:
                style = styles[f"rag_{value}"]
            if column == "records":
                style = styles["numerator"]
            write_cell(sheet, r, c, value, style)
    sheet.freeze_panes(top + 2, 2)
    sheet.set_column(0, 0, 36)
    sheet.set_column(1, 1, 10)
    sheet.set_column(2, 2, 34)
    sheet.set_column(3, 7, 9)
    sheet.set_column(len(IDENTITY), frame.shape[1] - 1, 8)


def write_benchmark(data: ReportData, out: Path) -> list[Path]:
    """benchmark-fls-PERIOD.csv (wide), benchmark-LEVEL-PERIOD.csv (long, with names) and
    benchmark-PERIOD.xlsx (all of them, and the definitions); as they may be published."""

    label = data.period.label
    frame = benchmark_frame(data)
    written = []
    wide = out / f"benchmark-fls-{label}.csv"
    wide.write_text(csv_frame(frame).to_csv(index=False), encoding="utf-8")
    written.append(wide)
    names = {
        **{c: data.unit_name("service", c) for c in data.services["service_code"]},
        **{r: data.unit_name("region", r) for r in data.services["region_code"]},
        **{n: data.unit_name("nation", n) for n in ("england", "wales", "all")},
    }
    for level in ("service", "region", "nation"):
        path = out / f"benchmark-{level}-{label}.csv"
        path.write_text(kpi_csv(data.shown[level], names), encoding="utf-8")
        written.append(path)
    path = out / f"benchmark-{label}.xlsx"
    internal = not data.suppression
    lines = ([NOT_FOR_PUBLICATION] if internal else []) + heading(data)
    with xlsx_workbook(path, {"nan_inf_to_errors": True}) as book:
        styles = styles_for(book)
        _wide_sheet(book, data, frame, styles)
        for level in ("service", "region", "nation"):
            add_long_sheet(
                book, f"{level}s (long)", data.shown[level], styles, lines, names, internal
            )
        write_definitions(book, data.catalogue, data.thresholds, lines, styles, internal)
    written.append(path)
    return written
