"""KPI result tables in their long shape: CSV and JSON (as `flsdb kpis` writes them) and XLSX.

Every sheet starts with what the numbers are (period, extract date, records, caseload method and
whether small counts are suppressed); numbers are written as numbers, text as text.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from flsdb.config import Thresholds
from flsdb.kpi.catalogue import Catalogue
from flsdb.kpi.results import RESULT_COLUMNS
from flsdb.sheets import csv_frame, plain_number, write_cell, xlsx_workbook

RAG_COLOURS = {"green": "#1A9850", "amber": "#FDB863", "red": "#D73027"}
RAG_TEXT = {"green": "#FFFFFF", "amber": "#000000", "red": "#FFFFFF"}
NOT_FOR_PUBLICATION = "NOT FOR PUBLICATION: small counts are not suppressed (internal use only)."
FORMATS = {
    "numerator": "#,##0",
    "denominator": "#,##0",
    "not_due": "#,##0",
    "percent": "0.0",
    "ci_low": "0.0",
    "ci_high": "0.0",
}


def kpi_records(
    table: pd.DataFrame, names: dict[str, str] | None = None
) -> list[dict[str, object]]:
    """Rows as objects with exactly the result keys (and `unit_name` when names are given)."""
    rows = []
    for row in table[list(RESULT_COLUMNS)].itertuples(index=False):
        item = {key: plain_number(value) for key, value in zip(RESULT_COLUMNS, row, strict=True)}
        for key in ("percent", "ci_low", "ci_high"):
            if item[key] is not None:
                item[key] = float(item[key])  # type: ignore[arg-type]
        if names is not None:
            item["unit_name"] = names.get(str(item["unit"]), str(item["unit"]))
        rows.append(item)
    return rows


def kpi_json(table: pd.DataFrame) -> str:
    return json.dumps(kpi_records(table), indent=1)


def kpi_csv(table: pd.DataFrame, names: dict[str, str] | None = None) -> str:
    """The long CSV: the columns of `flsdb kpis --format csv` (then `unit_name`, if given)."""
    columns = [*RESULT_COLUMNS, *(["unit_name"] if names is not None else [])]
    records = pd.DataFrame(kpi_records(table, names), columns=columns, dtype=object)
    return csv_frame(records).to_csv(index=False)


def write_kpi_xlsx(
    sheets: dict[str, pd.DataFrame],
    catalogue: Catalogue,
    thresholds: Thresholds,
    path: Path,
    heading: list[str],
    names: dict[str, str] | None = None,
    internal: bool = False,
) -> Path:
    """One sheet per level (RAG-coloured, frozen header) and a definitions sheet."""

    with xlsx_workbook(path, {"nan_inf_to_errors": True}) as book:
        styles = styles_for(book)
        lines = ([NOT_FOR_PUBLICATION] if internal else []) + heading
        for name, table in sheets.items():
            add_long_sheet(book, name, table, styles, lines, names, internal)
        write_definitions(book, catalogue, thresholds, lines, styles, internal)
    return path


def add_long_sheet(
    book: object,
    name: str,
    table: pd.DataFrame,
    styles: dict[str, object],
    lines: list[str],
    names: dict[str, str] | None,
    internal: bool,
) -> None:
    """A sheet of KPI rows in the long shape, under the heading lines."""
    sheet = book.add_worksheet(name[:31])  # type: ignore[attr-defined]
    columns = [*RESULT_COLUMNS, *(["unit_name"] if names is not None else [])]
    top = write_heading(sheet, lines, styles, internal)
    records = kpi_records(table, names)
    for c, column in enumerate(columns):
        write_cell(sheet, top, c, column, styles["header"])
    for r, item in enumerate(records, start=top + 1):
        for c, key in enumerate(columns):
            style = styles.get(key)
            if key == "rag" and item["rag"]:
                style = styles[f"rag_{item['rag']}"]
            write_cell(sheet, r, c, item[key], style)
    sheet.freeze_panes(top + 1, 0)
    sheet.autofilter(top, 0, top + max(len(records), 1), len(columns) - 1)
    sheet.set_column(0, 3, 14)
    sheet.set_column(4, len(columns) - 1, 11)
    if names is not None:
        sheet.set_column(len(columns) - 1, len(columns) - 1, 40)


def styles_for(book: object) -> dict[str, object]:
    add = book.add_format  # type: ignore[attr-defined]
    styles = {
        "header": add({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True}),
        "title": add({"bold": True, "font_size": 12}),
        "note": add({"italic": True, "font_color": "#444444"}),
        "warning": add({"bold": True, "font_color": "#FFFFFF", "bg_color": "#B00020"}),
        "wrap": add({"text_wrap": True, "valign": "top"}),
    }
    for key, number_format in FORMATS.items():
        styles[key] = add({"num_format": number_format})
    for rag, colour in RAG_COLOURS.items():
        styles[f"rag_{rag}"] = add({"bg_color": colour, "font_color": RAG_TEXT[rag]})
    return styles


def write_heading(
    sheet: object, lines: list[str], styles: dict[str, object], internal: bool
) -> int:
    """What the sheet holds, above its table; returns the row of the table's header."""
    for r, line in enumerate(lines):
        style = styles["note"]
        if internal and r == 0:
            style = styles["warning"]
        elif r == (1 if internal else 0):
            style = styles["title"]
        write_cell(sheet, r, 0, line, style)
    return len(lines) + 1


def write_definitions(
    book: object,
    catalogue: Catalogue,
    thresholds: Thresholds,
    lines: list[str],
    styles: dict[str, object],
    internal: bool,
) -> None:
    from flsdb.reports.methodology import definition_rows

    defs = book.add_worksheet("definitions")  # type: ignore[attr-defined]
    top = write_heading(defs, lines, styles, internal)
    header = ["kpi", "name", "numerator", "denominator", "due", "RAG thresholds", "definition"]
    for c, column in enumerate(header):
        write_cell(defs, top, c, column, styles["header"])
    for r, row in enumerate(definition_rows(catalogue, thresholds), start=top + 1):
        for c, value in enumerate([*row, catalogue.description(row[0])]):
            write_cell(defs, r, c, value.replace("`", ""), styles["wrap"])
    defs.set_column(0, 0, 15)
    defs.set_column(1, 1, 32)
    defs.set_column(2, 3, 45)
    defs.set_column(4, 4, 12)
    defs.set_column(5, 5, 30)
    defs.set_column(6, 6, 70)
    defs.freeze_panes(top + 1, 0)
