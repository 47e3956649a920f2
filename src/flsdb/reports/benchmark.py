"""The benchmark table people read: one row per FLS (name, code, region, nation, records) and,
per KPI, the count, denominator, percent, RAG and the FLS's 95% rank interval (from, to; never a
single rank on the point estimate), under the national values;
written as CSV and as XLSX, beside the long tables.

In the workbook every numeric column holds numbers only: a withheld count is an empty cell with
its marker (<5 or c) in the text column beside it, so that sums, sorts and filters work; the
extract date is a date, a year a number; columns are as wide as their contents, each sheet has
a filter and a frozen header, KPI names stand beside their codes, and the document properties
say what the workbook is."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from flsdb.dates import uk_date
from flsdb.figures import PeriodFigures
from flsdb.reports.kpi_tables import (
    NOT_FOR_PUBLICATION,
    RAG_COLOURS,
    add_long_sheet,
    fit_columns,
    kpi_csv,
    period_value,
    set_properties,
    split_withheld,
    styles_for,
    write_definitions,
    write_heading,
)
from flsdb.reports.marking import SYNTHETIC, file_prefix, table_lines
from flsdb.sheets import csv_frame, plain_number, write_cell, xlsx_workbook
from flsdb.stats.ranks import rank_intervals

PARTS = ("n", "N", "%", "RAG", "rank from", "rank to")
# The workbook's parts per KPI: each count with its withheld marker beside it.
SHEET_PARTS = ("n", "n withheld", "N", "N withheld", "%", "RAG", "rank from", "rank to")
IDENTITY = ("FLS", "code", "region", "region code", "nation", "period", "as of", "records")
SHEET_IDENTITY = (*IDENTITY, "records withheld")


def heading(data: PeriodFigures) -> list[str]:
    suppressed = (
        f"Counts of 1 to {data.thresholds.suppression.below - 1} show as "
        f"{data.thresholds.suppression.label}; c marks a count withheld so that none can be "
        "worked out by subtraction; their percentages are removed."
        if data.suppression
        else "Small counts are not suppressed."
    )
    return [
        f"FLS audit benchmark, period {data.period.label}",
        f"Data as of {uk_date(data.as_of)}; {data.records:,} records from "
        f"{data.services_with_records} FLSs; caseload: {data.caseload_method}.",
        suppressed + " Rank from, rank to: the 95% interval of the FLS's rank among FLSs with a "
        "published value (1 is the best), by simulation from its counts; FLSs whose intervals "
        "overlap cannot be told apart.",
        f"Thresholds: {data.thresholds.source}.",
        "kpi01 (data completeness): n is the FLS's key fields more than 20% missing, of N key "
        "fields; in the long tables an FLS's are in key_fields_missing, key_fields and "
        "key_fields_missing_percent, and a region's or nation's FLSs with green completeness "
        "in fls_green, fls_with_records and fls_green_percent.",
    ]


def _ranks(data: PeriodFigures, kpi: str) -> dict[str, tuple[int, int]]:
    """Each FLS's 95% rank interval (1 = best) among those with a published value; none for
    kpi01 (it counts key fields) or a measure with no better direction. kpi02 and its parts
    are ranked as rates of records over the expected caseload."""
    measure = data.measure(kpi)
    if measure.direction == "neither" or measure.kind == "completeness":
        return {}
    raw = data.unsuppressed["service"][data.unsuppressed["service"]["kpi"] == kpi].set_index("unit")
    shown = data.published["service"][data.published["service"]["kpi"] == kpi].set_index("unit")
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


def _identity(data: PeriodFigures, level: str, unit: str) -> list[object]:
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


def benchmark_frame(data: PeriodFigures) -> pd.DataFrame:
    """The wide table: national rows first, then every FLS, in code order."""
    kpis = data.catalogue.kpi_ids
    ranks = {kpi: _ranks(data, kpi) for kpi in kpis}
    rows = []
    units = [("nation", "all"), ("nation", "england"), ("nation", "wales")]
    units += [("service", code) for code in data.services["service_code"]]
    for level, unit in units:
        table = data.published[level]
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


def sheet_rows(data: PeriodFigures, frame: pd.DataFrame) -> list[list[object]]:
    """The wide table's rows as the workbook holds them: each count split into a number and
    its withheld marker, the extract date a date, a year a number."""
    kpis = data.catalogue.kpi_ids
    out = []
    for row in frame.itertuples(index=False):
        values = list(row)
        identity = values[: len(IDENTITY)]
        identity[IDENTITY.index("period")] = period_value(identity[IDENTITY.index("period")])
        identity[IDENTITY.index("as of")] = dt.date.fromisoformat(str(identity[6]))
        records, records_mark = split_withheld(identity[IDENTITY.index("records")])
        cells: list[object] = [*identity[:-1], records, records_mark]
        for k in range(len(kpis)):
            part = values[len(IDENTITY) + k * len(PARTS) :][: len(PARTS)]
            n, big_n, percent, rag, rank_from, rank_to = part
            n_value, n_mark = split_withheld(n)
            big_n_value, big_n_mark = split_withheld(big_n)
            cells += [n_value, n_mark, big_n_value, big_n_mark, percent, rag, rank_from, rank_to]
        out.append(cells)
    return out


def _wide_sheet(book: object, data: PeriodFigures, frame: pd.DataFrame, styles: dict) -> None:
    sheet = book.add_worksheet("FLS benchmark")  # type: ignore[attr-defined]
    top = write_heading(sheet, sheet_lines(data), styles)
    kpis = data.catalogue.kpi_ids
    for c, column in enumerate(SHEET_IDENTITY):
        sheet.merge_range(top, c, top + 1, c, column, styles["header"])
    for k, kpi in enumerate(kpis):
        first = len(SHEET_IDENTITY) + k * len(SHEET_PARTS)
        sheet.merge_range(
            top,
            first,
            top,
            first + len(SHEET_PARTS) - 1,
            f"{kpi} {data.name(kpi)}",
            styles["header"],
        )
        for p, part in enumerate(SHEET_PARTS):
            write_cell(sheet, top + 1, first + p, part, styles["header"])
    formats = {
        "n": styles["numerator"],
        "N": styles["denominator"],
        "%": styles["percent"],
        "withheld": styles["withheld"],
        "as of": styles["date"],
        "period": styles["year"],
        "records": styles["numerator"],
    }
    header = [*SHEET_IDENTITY, *(f"{kpi} {part}" for kpi in kpis for part in SHEET_PARTS)]
    rows = sheet_rows(data, frame)
    for r, row in enumerate(rows, start=top + 2):
        for c, value in enumerate(row):
            column = header[c]
            part = column if c < len(SHEET_IDENTITY) else column.split(" ", 1)[1]
            style = formats.get("withheld" if part.endswith("withheld") else part)
            if part == "RAG" and value in RAG_COLOURS:
                style = styles[f"rag_{value}"]
            if isinstance(value, dt.date):
                sheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), style)
            else:
                write_cell(sheet, r, c, value, style)
    sheet.set_row(top, 30)
    sheet.freeze_panes(top + 2, 2)
    sheet.autofilter(top + 1, 0, top + 1 + len(rows), len(header) - 1)
    shown_header = [*SHEET_IDENTITY, *(part for _ in kpis for part in SHEET_PARTS)]
    fit_columns(sheet, shown_header, [[_text(v) for v in row] for row in rows])


def _text(value: object) -> object:
    return value.strftime("%-d %b %Y") if isinstance(value, dt.date) else value


def sheet_lines(data: PeriodFigures) -> list[str]:
    """Above every sheet: the marks (internal, synthetic, provisional), then what it holds."""
    internal = [NOT_FOR_PUBLICATION] if not data.suppression else []
    return [
        *internal,
        *table_lines(data),
        *heading(data),
        "A withheld count is an empty cell, its marker (<5 or c) in the column beside it, so "
        "that every numeric column holds numbers only.",
    ]


def write_benchmark(data: PeriodFigures, out: Path) -> list[Path]:
    """benchmark-fls-PERIOD.csv (wide), benchmark-LEVEL-PERIOD.csv (long, with names) and
    benchmark-PERIOD.xlsx (all of them, and the definitions); as they may be published.
    Made from synthetic data, every file name starts with `synthetic-` and every CSV row says
    so in a `marking` column."""

    label = data.period.label
    prefix = file_prefix(data)
    marking = SYNTHETIC if data.synthetic else None
    frame = benchmark_frame(data)
    written = []
    wide = out / f"{prefix}benchmark-fls-{label}.csv"
    wide_frame = frame.assign(marking=marking) if marking else frame
    wide.write_text(csv_frame(wide_frame).to_csv(index=False), encoding="utf-8")
    written.append(wide)
    names = {
        **{c: data.unit_name("service", c) for c in data.services["service_code"]},
        **{r: data.unit_name("region", r) for r in data.services["region_code"]},
        **{n: data.unit_name("nation", n) for n in ("england", "wales", "all")},
    }
    for level in ("service", "region", "nation"):
        path = out / f"{prefix}benchmark-{level}-{label}.csv"
        path.write_text(
            kpi_csv(data.published[level], names, marking, kpi01_apart=True), encoding="utf-8"
        )
        written.append(path)
    path = out / f"{prefix}benchmark-{label}.xlsx"
    lines = sheet_lines(data)
    with xlsx_workbook(path, {"nan_inf_to_errors": True}) as book:
        set_properties(book, f"FLS audit benchmark, period {label}", lines)
        styles = styles_for(book)
        _wide_sheet(book, data, frame, styles)
        for level in ("service", "region", "nation"):
            add_long_sheet(
                book,
                f"{level}s (long)",
                data.published[level],
                styles,
                lines,
                names,
                data.catalogue,
            )
        write_definitions(book, data.catalogue, data.thresholds, lines, styles)
    written.append(path)
    return written
