"""Cells that cannot run as formulas, in every CSV and XLSX flsdb writes.

A spreadsheet treats text starting with =, +, -, @, a tab or a carriage return as a formula.
CSV: such text gets a leading apostrophe (OWASP's advice), which spreadsheets show as text.
XLSX: text is written with `write_string`, never `write` (which turns "=..." into a formula);
numbers with `write_number`, so that they stay numbers.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import xlsxwriter

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value: object) -> object:
    """The value, with text that could run as a formula made inert."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_frame(frame: Any) -> Any:
    """A pandas frame with every text cell made inert; numbers are left as they are (a column
    of whole numbers and blanks stays whole numbers, not 1.0)."""
    # lazy: pandas (~0.4 s) only for CSV frames; `flsdb template` uses this module without it
    import pandas as pd
    from pandas.api import types

    out = frame.copy()
    out.columns = [csv_text(str(c)) for c in out.columns]
    for index in range(out.shape[1]):
        column = out.iloc[:, index]
        if not (
            types.is_numeric_dtype(column.dtype)
            or types.is_bool_dtype(column.dtype)
            or types.is_datetime64_any_dtype(column.dtype)
        ):
            out[out.columns[index]] = pd.Series(
                [csv_text(v) for v in column], index=out.index, dtype=object
            )
    return out


def plain_number(value: object) -> object:
    """JSON- and CSV-ready: integral floats as ints, NaN as None."""
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return int(value) if value.is_integer() else value
    return value


def write_cell(sheet: Any, row: int, column: int, value: object, style: Any = None) -> None:
    """One XLSX cell: numbers as numbers, text as text (never a formula), blanks left blank."""
    value = plain_number(value)
    if value is None:
        if style is not None:
            sheet.write_blank(row, column, None, style)
        return
    if isinstance(value, bool):
        sheet.write_boolean(row, column, value, style)
    elif isinstance(value, int | float):
        sheet.write_number(row, column, value, style)
    else:
        sheet.write_string(row, column, str(value), style)


@contextmanager
def xlsx_workbook(path: Path, options: dict[str, Any] | None = None) -> Iterator[Any]:
    """An XlsxWriter workbook built in memory and written to `path` in one write when the block
    ends: a full disk fails that write cleanly (the zip writer would fail again when collected)."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, **(options or {})})
    yield book
    book.close()
    Path(path).write_bytes(buffer.getbuffer())
