"""Open an upload file (CSV or XLSX) and read it in batches of strings, or fail clearly."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from flsdb.errors import FileFormatError
from flsdb.ingest.issues import ROW

_ZIP_MAGIC = b"PK\x03\x04"
_CHUNK = 1 << 20
BATCH_ROWS = 200_000


@dataclass(frozen=True)
class UploadFile:
    """A readable upload file: its normalised header, hash, and its rows in batches."""

    path: Path
    name: str
    sha256: str
    columns: tuple[str, ...]
    _sheet: pl.DataFrame | None = field(default=None, repr=False)

    def batches(self, rows: int = BATCH_ROWS) -> Iterator[pl.DataFrame]:
        """Cells as stripped strings (blank -> null) with `_row`, the spreadsheet row number."""
        offset = 2  # the header is row 1
        for batch in self._raw_batches(rows):
            yield batch.with_columns(
                [pl.col(c).str.strip_chars().replace("", None) for c in self.columns]
            ).with_row_index(ROW, offset=offset)
            offset += batch.height

    def _raw_batches(self, rows: int) -> Iterator[pl.DataFrame]:
        if self._sheet is not None:
            yield from self._sheet.iter_slices(rows)
            return
        scan = pl.scan_csv(
            self.path,
            has_header=True,
            new_columns=list(self.columns),
            infer_schema=False,
            quote_char='"',
        )
        try:
            yield from scan.collect_batches(chunk_size=rows)
        except (pl.exceptions.ComputeError, pl.exceptions.NoDataError) as exc:
            detail = str(exc).splitlines()[0]
            raise FileFormatError(f"{self.name} cannot be read as CSV: {detail}") from None

    def read_all(self) -> pl.DataFrame:
        return pl.concat(list(self.batches()))


def open_upload(path: Path) -> UploadFile:
    """Check that a file is a readable table with a proper header and at least one row."""
    if path.is_dir():
        raise FileFormatError(f"{path} is a folder; give the CSV or XLSX file to upload.")
    if not path.is_file():
        raise FileFormatError(f"Cannot open {path}: no such file.")
    with path.open("rb") as handle:
        start = handle.read(8)
    if path.stat().st_size == 0 or not _has_text(path):
        raise FileFormatError(f"{path.name} is empty: it has no header and no rows.")
    if start.startswith(_ZIP_MAGIC) or path.suffix.lower() in {".xlsx", ".xlsm"}:
        return _open_xlsx(path)
    return _open_csv(path)


def _has_text(path: Path) -> bool:
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            if chunk.strip():
                return True
    return False


def _digest_and_check_utf8(path: Path) -> str:
    """SHA-256 of the file, checking on the way that it is UTF-8 text (streamed)."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    position = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            if b"\x00" in chunk:
                raise FileFormatError(f"{path.name} is not a CSV text file (it holds binary data).")
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                offset = position + exc.start
                raise FileFormatError(
                    f"{path.name} is not UTF-8 text (unreadable byte 0x{chunk[exc.start]:02x} at "
                    f"position {offset}). Save it as 'CSV UTF-8' and upload it again."
                ) from None
            position += len(chunk)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise FileFormatError(
            f"{path.name} ends in the middle of a character: not UTF-8."
        ) from None
    return digest.hexdigest()


def _normalise_header(header: list[str], name: str) -> tuple[str, ...]:
    cleaned = [h.replace("\ufeff", "").strip().lower() for h in header]
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
    return tuple(cleaned)


def _open_csv(path: Path) -> UploadFile:
    digest = _digest_and_check_utf8(path)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
            first = next((row for row in reader if any(cell.strip() for cell in row)), None)
        except (csv.Error, StopIteration):
            raise FileFormatError(f"{path.name}: the header row cannot be read as CSV.") from None
    if len(header) < 2:
        raise FileFormatError(
            f"{path.name} does not look like a comma-separated file: its header has one column. "
            "Use commas between columns."
        )
    columns = _normalise_header(header, path.name)
    if first is None:
        raise FileFormatError(f"{path.name} has a header row but no data rows.")
    return UploadFile(path=path, name=path.name, sha256=digest, columns=columns)


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


def _open_xlsx(path: Path) -> UploadFile:
    from openpyxl import load_workbook

    data = path.read_bytes()
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise FileFormatError(f"{path.name} is not a readable XLSX workbook.") from None
    rows = book.worksheets[0].iter_rows(values_only=True)
    header_row = next(rows, None)
    if header_row is None:
        raise FileFormatError(f"{path.name}: the first sheet is empty.")
    width = len(header_row)
    while width and header_row[width - 1] in (None, ""):
        width -= 1
    columns = _normalise_header([_cell_text(h) or "" for h in header_row[:width]], path.name)
    body = [[_cell_text(v) for v in row[:width]] for row in rows]
    book.close()
    while body and all(v is None or not str(v).strip() for v in body[-1]):
        body.pop()  # spreadsheets keep empty rows after the data
    if not body:
        raise FileFormatError(f"{path.name} has a header row but no data rows.")
    sheet = pl.DataFrame(
        {c: [row[i] if i < len(row) else None for row in body] for i, c in enumerate(columns)},
        schema={c: pl.String for c in columns},
    )
    return UploadFile(
        path=path,
        name=path.name,
        sha256=hashlib.sha256(data).hexdigest(),
        columns=columns,
        _sheet=sheet,
    )
