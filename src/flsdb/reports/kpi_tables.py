"""KPI result tables in their long shape: CSV and JSON (as `flsdb kpis` writes them) and XLSX.

Every sheet starts with what the numbers are (period, extract date, records, caseload method and
whether small counts are suppressed); numbers are written as numbers, text as text.
"""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

import pandas as pd

from flsdb.config import Thresholds
from flsdb.figures import kpi_records
from flsdb.kpi.catalogue import Catalogue
from flsdb.kpi.results import RESULT_COLUMNS
from flsdb.reports.appendix import reader_definitions
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
    "key_fields_missing": "#,##0",
    "key_fields": "#,##0",
    "key_fields_missing_percent": "0.0",
    "fls_green": "#,##0",
    "fls_with_records": "#,##0",
    "fls_green_percent": "0.0",
}


# kpi01 counts key fields for an FLS (more than 20% missing, of 17) but FLSs for a region or a
# nation (those with green completeness, of those with records): each meaning has columns of its
# own in the benchmark's long tables, and kpi01 leaves numerator, denominator and percent empty.
KPI01_COLUMNS = {
    "service": ("key_fields_missing", "key_fields", "key_fields_missing_percent"),
    "region": ("fls_green", "fls_with_records", "fls_green_percent"),
}
KPI01_ALL = (*KPI01_COLUMNS["service"], *KPI01_COLUMNS["region"])


def separate_kpi01(item: dict[str, object]) -> dict[str, object]:
    """A long row with kpi01's counts and percent moved to the columns of their meaning."""
    out = {**item, **dict.fromkeys(KPI01_ALL)}
    if item["kpi"] != "kpi01":
        return out
    names = KPI01_COLUMNS["service" if item["level"] == "service" else "region"]
    for name, key in zip(names, ("numerator", "denominator", "percent"), strict=True):
        out[name], out[key] = item[key], None
    out["ci_low"] = out["ci_high"] = None
    return out


def kpi_json(table: pd.DataFrame) -> str:
    return json.dumps(kpi_records(table), indent=1)


def kpi_csv(
    table: pd.DataFrame,
    names: dict[str, str] | None = None,
    marking: str | None = None,
    kpi01_apart: bool = False,
) -> str:
    """The long CSV: the columns of `flsdb kpis --format csv` (then `unit_name`, if given; with
    `kpi01_apart`, kpi01's own columns; and a `marking` column on every row, such as SYNTHETIC
    DATA, if given)."""
    columns = [*RESULT_COLUMNS, *(["unit_name"] if names is not None else [])]
    items = kpi_records(table, names)
    if kpi01_apart:
        columns += KPI01_ALL
        items = [separate_kpi01(i) for i in items]
    records = pd.DataFrame(items, columns=columns, dtype=object)
    if marking:
        records["marking"] = marking
    return csv_frame(records).to_csv(index=False)


def write_kpi_xlsx(
    sheets: dict[str, pd.DataFrame],
    catalogue: Catalogue,
    thresholds: Thresholds,
    path: Path,
    heading: list[str],
    names: dict[str, str] | None = None,
    internal: bool = False,
    marks: list[str] | None = None,
) -> Path:
    """One sheet per level (RAG-coloured, frozen header, filters) and a definitions sheet."""

    with xlsx_workbook(path, {"nan_inf_to_errors": True}) as book:
        styles = styles_for(book)
        lines = ([NOT_FOR_PUBLICATION] if internal else []) + (marks or []) + heading
        set_properties(book, heading[0] if heading else "KPI tables", lines)
        for name, table in sheets.items():
            add_long_sheet(book, name, table, styles, lines, names, catalogue)
        write_definitions(book, catalogue, thresholds, lines, styles)
    return path


def set_properties(book: object, title: str, lines: list[str]) -> None:
    """The workbook's document properties: what it is, from whom, and its marks."""
    book.set_properties(  # type: ignore[attr-defined]
        {
            "title": title,
            "subject": "Fracture liaison service audit: KPI tables",
            "author": "flsdb",
            "company": "flsdb",
            "keywords": "fracture liaison service, audit, KPI, benchmark",
            "comments": " ".join(lines) + f" Written by flsdb {version('flsdb')}.",
        }
    )


# A long table's columns in the workbook: a withheld count is an empty cell, its marker (<5 or
# c) in the text column beside it, so that every numeric column holds numbers only.
LONG_COLUMNS = (
    "level",
    "unit",
    "unit_name",
    "period",
    "kpi",
    "kpi_name",
    "numerator",
    "numerator_withheld",
    "denominator",
    "denominator_withheld",
    "percent",
    "ci_low",
    "ci_high",
    "rag",
    "not_due",
    "not_due_withheld",
    *KPI01_ALL,
)


def period_value(label: object) -> object:
    """A year as the number it is (2024); a quarter or month stays its label (2024-Q1)."""
    text = str(label)
    return int(text) if text.isdigit() else text


def split_withheld(value: object) -> tuple[object, str | None]:
    """A published count as (number or None, its withheld marker or None)."""
    value = plain_number(value)
    if isinstance(value, str):
        return None, value
    return value, None


def add_long_sheet(
    book: object,
    name: str,
    table: pd.DataFrame,
    styles: dict[str, object],
    lines: list[str],
    names: dict[str, str] | None,
    catalogue: Catalogue | None = None,
) -> None:
    """A sheet of KPI rows in the long shape, under the heading lines."""
    sheet = book.add_worksheet(name[:31])  # type: ignore[attr-defined]
    columns = [
        c
        for c in LONG_COLUMNS
        if (c != "unit_name" or names is not None) and (c != "kpi_name" or catalogue is not None)
    ]
    top = write_heading(sheet, lines, styles)
    rows = []
    for item in map(separate_kpi01, kpi_records(table, names)):
        for key in ("numerator", "denominator", "not_due"):
            item[key], item[f"{key}_withheld"] = split_withheld(item[key])
        item["period"] = period_value(item["period"])
        if catalogue is not None:
            item["kpi_name"] = catalogue.name(str(item["kpi"]))
        rows.append([item[c] for c in columns])
    for c, column in enumerate(columns):
        write_cell(sheet, top, c, column, styles["header"])
    for r, row in enumerate(rows, start=top + 1):
        for c, (key, value) in enumerate(zip(columns, row, strict=True)):
            style = styles.get(key)
            if key == "rag" and value:
                style = styles[f"rag_{value}"]
            write_cell(sheet, r, c, value, style)
    sheet.freeze_panes(top + 1, 0)
    sheet.autofilter(top, 0, top + max(len(rows), 1), len(columns) - 1)
    fit_columns(sheet, columns, rows)


def fit_columns(
    sheet: object, header: list[str], rows: list[list[object]], start: int = 0, most: int = 60
) -> None:
    """Each column as wide as its longest cell (header included), within 6 and `most`
    characters, plus room for the filter button."""
    for c, title in enumerate(header):
        widest = max([len(str(title))] + [len(_shown(row[c])) for row in rows])
        sheet.set_column(start + c, start + c, min(most, max(6, widest + 3)))  # type: ignore[attr-defined]


def _shown(value: object) -> str:
    value = plain_number(value)
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def styles_for(book: object) -> dict[str, object]:
    add = book.add_format  # type: ignore[attr-defined]
    styles = {
        "header": add(
            {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"}
        ),
        "title": add({"bold": True, "font_size": 12}),
        "note": add({"italic": True, "font_color": "#444444"}),
        "warning": add({"bold": True, "font_color": "#FFFFFF", "bg_color": "#B00020"}),
        "wrap": add({"text_wrap": True, "valign": "top"}),
        "date": add({"num_format": "d mmm yyyy"}),
        "year": add({"num_format": "0"}),
        "withheld": add({"italic": True, "font_color": "#444444", "align": "right"}),
    }
    for key, number_format in FORMATS.items():
        styles[key] = add({"num_format": number_format})
    for key in ("numerator_withheld", "denominator_withheld", "not_due_withheld"):
        styles[key] = styles["withheld"]
    styles["period"] = styles["year"]
    for rag, colour in RAG_COLOURS.items():
        styles[f"rag_{rag}"] = add({"bg_color": colour, "font_color": RAG_TEXT[rag]})
    return styles


MARK_STARTS = ("NOT FOR PUBLICATION", "SYNTHETIC DATA", "Provisional", "Not for publication")


def write_heading(sheet: object, lines: list[str], styles: dict[str, object]) -> int:
    """What the sheet holds, above its table (its marks first, in white on red); returns the
    row of the table's header."""
    titled = False
    for r, line in enumerate(lines):
        style = styles["note"]
        if line.startswith(MARK_STARTS):
            style = styles["warning"]
        elif not titled:
            style, titled = styles["title"], True
        write_cell(sheet, r, 0, line, style)
    return len(lines) + 1


def write_definitions(
    book: object,
    catalogue: Catalogue,
    thresholds: Thresholds,
    lines: list[str],
    styles: dict[str, object],
) -> None:
    defs = book.add_worksheet("definitions")  # type: ignore[attr-defined]
    top = write_heading(defs, lines, styles)
    # In words, as the report's appendix A gives them: no column names or pseudo-code.
    header = ["KPI", "name", "counted", "out of", "target"]
    for c, column in enumerate(header):
        write_cell(defs, top, c, column, styles["header"])
    definitions = reader_definitions(catalogue, thresholds)
    for r, item in enumerate(definitions, start=top + 1):
        for c, value in enumerate([item.kpi, item.name, item.counted, item.out_of, item.target]):
            write_cell(defs, r, c, value, styles["wrap"])
    defs.set_column(0, 0, 15)
    defs.set_column(1, 1, 32)
    defs.set_column(2, 3, 55)
    defs.set_column(4, 4, 40)
    defs.freeze_panes(top + 1, 0)
    defs.autofilter(top, 0, top + len(definitions), len(header) - 1)
