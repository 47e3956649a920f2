"""KPI result tables in the published shapes: long CSV/JSON, wide per-unit, and XLSX."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import xlsxwriter

from flsdb.kpi.catalogue import Catalogue
from flsdb.kpi.results import RESULT_COLUMNS

RAG_COLOURS = {"green": "#1A9850", "amber": "#FDB863", "red": "#D73027"}
RAG_TEXT = {"green": "#FFFFFF", "amber": "#000000", "red": "#FFFFFF"}


def _plain(value: object) -> object:
    """JSON-ready: integral floats as ints, NaN as null."""
    if value is None:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return int(value) if value.is_integer() else value
    if hasattr(value, "item"):
        return _plain(value.item())
    return value


def kpi_records(table: pd.DataFrame) -> list[dict[str, object]]:
    """Rows as objects with exactly the result keys."""
    rows = []
    for row in table[list(RESULT_COLUMNS)].itertuples(index=False):
        item = {key: _plain(value) for key, value in zip(RESULT_COLUMNS, row, strict=True)}
        for key in ("percent", "ci_low", "ci_high"):
            if item[key] is not None:
                item[key] = float(item[key])  # type: ignore[arg-type]
        rows.append(item)
    return rows


def kpi_json(table: pd.DataFrame) -> str:
    return json.dumps(kpi_records(table), indent=1)


def kpi_csv(table: pd.DataFrame) -> str:
    records = pd.DataFrame(kpi_records(table), columns=list(RESULT_COLUMNS))
    return records.to_csv(index=False)


def wide_table(table: pd.DataFrame, value: str = "percent") -> pd.DataFrame:
    """One row per unit and period, one column per KPI."""
    wide = table.pivot_table(
        index=["unit", "period"], columns="kpi", values=value, aggfunc="first", sort=False
    )
    order = [k for k in dict.fromkeys(table["kpi"])]
    return wide.reindex(columns=order).reset_index()


def write_kpi_xlsx(
    sheets: dict[str, pd.DataFrame],
    catalogue: Catalogue,
    path: Path,
    notes: list[str] | None = None,
) -> Path:
    """One sheet per level (RAG-coloured, frozen header) and a definitions sheet."""
    book = xlsxwriter.Workbook(str(path), {"nan_inf_to_errors": True})
    header = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
    rag_formats = {
        rag: book.add_format({"bg_color": colour, "font_color": RAG_TEXT[rag]})
        for rag, colour in RAG_COLOURS.items()
    }
    for name, table in sheets.items():
        sheet = book.add_worksheet(name[:31])
        records = kpi_records(table)
        sheet.write_row(0, 0, list(RESULT_COLUMNS), header)
        rag_col = RESULT_COLUMNS.index("rag")
        for r, item in enumerate(records, start=1):
            for c, key in enumerate(RESULT_COLUMNS):
                value = item[key]
                if value is None:
                    continue
                style = rag_formats.get(str(item["rag"])) if c == rag_col else None
                sheet.write(r, c, value, style)
        sheet.freeze_panes(1, 0)
        sheet.autofilter(0, 0, max(len(records), 1), len(RESULT_COLUMNS) - 1)
        sheet.set_column(0, 3, 16)
        sheet.set_column(4, len(RESULT_COLUMNS) - 1, 11)
    defs = book.add_worksheet("definitions")
    defs.write_row(0, 0, ["kpi", "name", "definition", "RAG thresholds"], header)
    row = 1
    for measure in catalogue.measures:
        rag = catalogue.rag_for(measure)
        thresholds = "" if rag is None else rag_text(rag)
        for kpi in measure.output_ids:
            name = measure.parts[kpi].name if measure.parts else measure.name
            defs.write_row(row, 0, [kpi, name, measure.description, thresholds])
            row += 1
    for note in notes or []:
        row += 1
        defs.write(row, 0, note)
    defs.set_column(0, 0, 16)
    defs.set_column(1, 1, 40)
    defs.set_column(2, 2, 100)
    defs.set_column(3, 3, 40)
    defs.freeze_panes(1, 0)
    book.close()
    return path


def rag_text(rag: object) -> str:
    """Plain-English RAG thresholds."""
    from flsdb.kpi.catalogue import Rag

    assert isinstance(rag, Rag)
    unit = "" if rag.measure == "numerator" else "%"
    if rag.direction == "lower":
        return f"green < {rag.green:g}{unit}, else red"
    if rag.amber is None:
        return f"green >= {rag.green:g}{unit}, red < {rag.green:g}{unit}"
    return (
        f"green >= {rag.green:g}{unit}, amber {rag.amber:g}{unit} to < {rag.green:g}{unit}, "
        f"red < {rag.amber:g}{unit}"
    )
