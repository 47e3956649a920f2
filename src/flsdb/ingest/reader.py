"""Read an upload file (CSV or XLSX) into a table of strings, or fail with a clear message."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from flsdb.errors import FileFormatError
from flsdb.ingest.issues import ROW

_ZIP_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class RawTable:
    """The file's cells as stripped strings (blank -> null), with the spreadsheet row number."""

    frame: pl.DataFrame
    columns: tuple[str, ...]
    name: str
    sha256: str


def read_upload(path: Path) -> RawTable:
    """Read a CSV or XLSX upload file; every cell stays a string for validation."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FileFormatError(f"Cannot open {path}: {exc.strerror}.") from None
    if not data.strip():
        raise FileFormatError(f"{path.name} is empty: it has no header and no rows.")
    digest = hashlib.sha256(data).hexdigest()
    if data.startswith(_ZIP_MAGIC) or path.suffix.lower() in {".xlsx", ".xlsm"}:
        header, frame = _read_xlsx(data, path.name)
    else:
        header, frame = _read_csv(data, path.name)
    columns = tuple(header)
    if frame.height == 0:
        raise FileFormatError(f"{path.name} has a header row but no data rows.")
    frame = frame.with_columns(
        [pl.col(c).str.strip_chars().replace("", None) for c in columns]
    ).with_row_index(ROW, offset=2)
    return RawTable(frame=frame, columns=columns, name=path.name, sha256=digest)


def _normalise_header(header: list[str], name: str) -> list[str]:
    cleaned = [h.strip().lower() for h in header]
    if not any(cleaned):
        raise FileFormatError(f"{name}: the first row must hold the column names; it is blank.")
    blanks = [i + 1 for i, h in enumerate(cleaned) if not h]
    if blanks:
        raise FileFormatError(f"{name}: column {blanks[0]} of the header row has no name.")
    seen: set[str] = set()
    for column in cleaned:
        if column in seen:
            raise FileFormatError(
                f"{name}: the column '{column}' appears twice in the header row; "
                "each column may appear once."
            )
        seen.add(column)
    return cleaned


def _read_csv(data: bytes, name: str) -> tuple[list[str], pl.DataFrame]:
    if b"\x00" in data[:4096]:
        raise FileFormatError(f"{name} is not a CSV text file (it holds binary data).")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileFormatError(
            f"{name} is not UTF-8 text (unreadable byte 0x{data[exc.start]:02x} at position "
            f"{exc.start}). Save it as 'CSV UTF-8' and upload it again."
        ) from None
    first_line = text.split("\n", 1)[0]
    try:
        header = next(csv.reader([first_line]))
    except (csv.Error, StopIteration):
        raise FileFormatError(f"{name}: the header row cannot be read as CSV.") from None
    if len(header) < 2:
        raise FileFormatError(
            f"{name} does not look like a comma-separated file: its header has one column. "
            "Use commas between columns."
        )
    columns = _normalise_header(header, name)
    try:
        frame = pl.read_csv(
            io.BytesIO(text.encode("utf-8")),
            has_header=True,
            new_columns=columns,
            infer_schema=False,
            quote_char='"',
        )
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError) as exc:
        detail = str(exc).splitlines()[0]
        raise FileFormatError(f"{name} cannot be read as CSV: {detail}") from None
    return columns, frame


def _cell_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_xlsx(data: bytes, name: str) -> tuple[list[str], pl.DataFrame]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise FileFormatError(f"{name} is not a readable XLSX workbook.") from None
    sheet = book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header_row = next(rows, None)
    if header_row is None:
        raise FileFormatError(f"{name}: the first sheet is empty.")
    width = len(header_row)
    while width and header_row[width - 1] in (None, ""):
        width -= 1
    columns = _normalise_header([_cell_text(h) or "" for h in header_row[:width]], name)
    body = [[_cell_text(v) for v in row[:width]] for row in rows]
    book.close()
    # Drop trailing empty rows that spreadsheets keep after the data.
    while body and all(v is None for v in body[-1]):
        body.pop()
    frame = pl.DataFrame(
        {c: [row[i] if i < len(row) else None for row in body] for i, c in enumerate(columns)},
        schema={c: pl.String for c in columns},
    )
    return columns, frame
