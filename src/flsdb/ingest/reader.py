"""Open an upload file (CSV or XLSX) and read it in batches of strings, or fail clearly.

Everything that can refuse a file cheaply is checked before its rows are read: its size, its
header, its number of columns, for CSV that every row has one field per column, for XLSX what
its parts unpack to. While the rows are read (`upload_file.UploadFile`), no cell may be longer
than the limit and the rows may not be more than the limit.
"""

from __future__ import annotations

from pathlib import Path

from flsdb.errors import FileFormatError
from flsdb.ingest.csv_file import open_csv
from flsdb.ingest.limits import UploadLimits
from flsdb.ingest.text import TextOptions
from flsdb.ingest.upload_file import BATCH_ROWS, UploadFile, normalise_header
from flsdb.ingest.xlsx_file import open_xlsx

__all__ = ["BATCH_ROWS", "UploadFile", "normalise_header", "open_upload"]

_ZIP_MAGIC = b"PK\x03\x04"
_CHUNK = 1 << 20
# Files people pick by mistake, known by their first bytes: what to call them in the refusal.
_NOT_TABLES = (
    (b"%PDF-", "a PDF document"),
    (b"\xd0\xcf\x11\xe0", "an Excel 97-2003 (.xls) or other old Office file"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"{\\rtf", "a Rich Text document"),
)


def open_upload(
    path: Path,
    limits: UploadLimits | None = None,
    sheet: str | None = None,
    text: TextOptions | None = None,
) -> UploadFile:
    """Check that a file is a readable table with a proper header and at least one row; a CSV
    file's text is UTF-8 with commas unless `text` allows more."""
    limits = limits or UploadLimits()
    if path.is_dir():
        raise FileFormatError(f"{path} is a folder; give the CSV or XLSX file to upload.")
    if not path.is_file():
        raise FileFormatError(f"Cannot open {path}: no such file.")
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise FileFormatError(
            f"{path.name} is {size / (1 << 20):,.0f} MB; an upload may be at most "
            f"{limits.size_text()}. Split it into smaller files."
        )
    with path.open("rb") as handle:
        start = handle.read(8)
    if size == 0 or not _has_text(path):
        raise FileFormatError(f"{path.name} is empty: it has no header and no rows.")
    for magic, kind in _NOT_TABLES:
        if start.startswith(magic):
            raise FileFormatError(
                f"{path.name} is {kind}, not a CSV or XLSX file. Save the table as CSV or "
                "XLSX (Excel Workbook) and upload that."
            )
    if start.startswith(_ZIP_MAGIC) or path.suffix.lower() in {".xlsx", ".xlsm"}:
        return open_xlsx(path, limits, sheet)
    if sheet is not None:
        raise FileFormatError(f"{path.name} is a CSV file: it has no sheets to choose from.")
    return open_csv(path, limits, text)


def _has_text(path: Path) -> bool:
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            if chunk.strip():
                return True
    return False
