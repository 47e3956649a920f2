"""XLSX uploads: one sheet of records, read in streaming mode, its parts checked before.

Before any cell is read: what the workbook's parts unpack to (a zip bomb is refused in a moment,
as is a sheet that declares more rows than an upload may hold), which sheet holds the data (data
on a second sheet refuses the file unless a sheet is chosen), and whether a formula has no saved
value (it would be read as a blank). Cells are then read row by row, in batches.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import polars as pl

from flsdb.errors import FileFormatError
from flsdb.ingest.limits import MB, UploadLimits
from flsdb.ingest.upload_file import UploadFile, normalise_header

TEMPLATE_SHEETS = ("records", "services")
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_RELS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension ref="[A-Z]+\d+:?[A-Z]*(\d*)"')
_ROW_TAG = re.compile(rb"<(?:\w+:)?row[\s>/]")
_FORMULA_CELL = re.compile(
    rb"<(?:\w+:)?c(?P<attrs>\s[^>]*)?>\s*<(?:\w+:)?f\b[^>]*(?:/>|>[^<]*</(?:\w+:)?f>)\s*"
    rb"(?:<(?:\w+:)?v\s*/>|<(?:\w+:)?v>(?P<value>[^<]*)</(?:\w+:)?v>)?\s*</(?:\w+:)?c>"
)
_CELL_REF = re.compile(rb'\br="([A-Z]+[0-9]+)"')
_VALUE = re.compile(rb"<(?:\w+:)?(?:v>[^<]|t[\s>][^<]*[^<\s])")
_CHUNK = 1 << 20
# What a damaged workbook raises from the zip reader, zlib, the XML parsers or openpyxl.
DAMAGED = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    KeyError,
    ValueError,
    TypeError,
    IndexError,
    AttributeError,
    SyntaxError,  # ElementTree's ParseError
    RuntimeError,  # zipfile: a part flagged as encrypted (and NotImplementedError)
    OSError,  # a damaged zip directory sends reads before the start of the file (EINVAL)
)
_LONGEST_ROW = 32 * MB
# Excel's own limit: a sheet has at most 1,048,576 rows, the header being one.
_EXCEL_ROWS = 1_048_575


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


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _check_parts(path: Path, archive: zipfile.ZipFile, limits: UploadLimits) -> None:
    total = 0
    for info in archive.infolist():
        total += info.file_size
        inflation = info.file_size / max(info.compress_size, 1)
        if info.file_size > 10 * MB and inflation > limits.max_inflation:
            raise FileFormatError(
                f"{path.name} unpacks to {info.file_size / MB:,.0f} MB from "
                f"{info.compress_size / MB:,.1f} MB ({info.filename}): not a workbook this "
                "upload can take."
            )
        if info.filename.endswith("sharedStrings.xml") and (
            info.file_size > limits.max_shared_strings_bytes
        ):
            raise FileFormatError(
                f"{path.name} holds {info.file_size / MB:,.0f} MB of text; an upload may hold at "
                f"most {limits.max_shared_strings_bytes / MB:,.0f} MB."
            )
    if total > limits.max_unzipped_bytes:
        raise FileFormatError(
            f"{path.name} unpacks to {total / MB:,.0f} MB; an upload may unpack to at most "
            f"{limits.max_unzipped_bytes / MB:,.0f} MB."
        )


def _declared_rows(archive: zipfile.ZipFile, part: str) -> int | None:
    """The rows a sheet declares in its <dimension> (read from its first kilobytes)."""
    with archive.open(part) as handle:
        head = handle.read(4096)
    found = _DIMENSION.search(head)
    return int(found.group(1)) if found and found.group(1) else None


def _scan_sheet(archive: zipfile.ZipFile, part: str, max_rows: int) -> tuple[int, str | None]:
    """Count a sheet's rows (stopping past `max_rows`) and find its first formula cell with no
    saved value, reading the sheet's XML as bytes, a megabyte at a time, row by whole row."""
    rows, carry = 0, b""
    with archive.open(part) as handle:
        while chunk := handle.read(_CHUNK):
            data = carry + chunk
            cut = data.rfind(b"</row>")
            cut = cut + len(b"</row>") if cut >= 0 else 0
            if cut == 0 and len(data) > _LONGEST_ROW:
                raise FileFormatError(f"a row of the sheet is longer than {_LONGEST_ROW // MB} MB")
            whole, carry = data[:cut], data[cut:]
            rows += len(_ROW_TAG.findall(whole))
            for cell in _FORMULA_CELL.finditer(whole):
                if not cell.group("value") and b't="str"' not in cell.group("attrs"):
                    found = _CELL_REF.search(cell.group("attrs"))
                    return rows, found.group(1).decode() if found else "?"
            if rows > max_rows:
                break
    rows += len(_ROW_TAG.findall(carry))
    return rows, None


def _has_values(archive: zipfile.ZipFile, part: str) -> bool:
    """Whether a sheet's XML holds any cell value (a quick look before openpyxl's)."""
    with archive.open(part) as handle:
        carry = b""
        while chunk := handle.read(_CHUNK):
            if _VALUE.search(carry + chunk):
                return True
            carry = chunk[-64:]
    return False


def _has_data(sheet: Any) -> bool:
    return any(not _blank(v) for row in sheet.iter_rows(values_only=True) for v in row)


@dataclass
class XlsxUpload(UploadFile):
    sheet_name: str = ""
    width: int = 0

    def _raw_batches(self, rows: int) -> Iterator[pl.DataFrame]:
        try:
            yield from self._read_batches(rows)
        except DAMAGED:
            raise FileFormatError(
                f"{self.name} is not a readable XLSX workbook (it is damaged)."
            ) from None

    def _read_batches(self, rows: int) -> Iterator[pl.DataFrame]:
        # lazy: openpyxl (~0.2 s) only when a workbook is read, not for the CSV uploads
        from openpyxl import load_workbook

        book = load_workbook(self.path, read_only=True, data_only=True)
        try:
            sheet = book[self.sheet_name]
            cells = sheet.iter_rows(values_only=True)
            next(cells, None)  # the header
            pending: list[list[str | None]] = []  # blank rows: kept only if data follow
            batch: list[list[str | None]] = []
            number = 1
            for row in cells:
                number += 1
                beyond = row[self.width :]
                if any(not _blank(v) for v in beyond):
                    column = self.width + next(i for i, v in enumerate(beyond) if not _blank(v)) + 1
                    raise FileFormatError(
                        f"{self.name} row {number} has a value in column {column}, which has no "
                        "name in the header row."
                    )
                values = [_cell_text(v) for v in row[: self.width]]
                values += [None] * (self.width - len(values))
                if all(_blank(v) for v in values):
                    pending.append(values)
                    continue
                batch += pending
                pending = []
                batch.append(values)
                if len(batch) >= rows:
                    yield self._frame(batch)
                    batch = []
            if batch:
                yield self._frame(batch)
        finally:
            book.close()

    def _frame(self, batch: list[list[str | None]]) -> pl.DataFrame:
        return pl.DataFrame(
            {c: [row[i] for row in batch] for i, c in enumerate(self.columns)},
            schema={c: pl.String for c in self.columns},
        )


def _sheet_parts(path: Path, archive: zipfile.ZipFile) -> list[tuple[str, str]]:
    """The workbook's sheets in order, each with the zip member holding its XML."""
    try:
        book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError):
        raise FileFormatError(f"{path.name} is not a readable XLSX workbook.") from None
    targets = {r.get("Id"): r.get("Target") or "" for r in rels if r.tag.endswith("Relationship")}
    sheets = []
    for sheet in book.iter(f"{_MAIN}sheet"):
        target = targets.get(sheet.get(f"{_RELS}id"), "")
        part = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        sheets.append((sheet.get("name") or "", part))
    if not sheets:
        raise FileFormatError(f"{path.name} is not a readable XLSX workbook (it has no sheets).")
    return sheets


def _too_many_rows(name: str, sheet: str, limits: UploadLimits) -> str:
    return (
        f"{name}: the sheet '{sheet}' has more than {limits.max_rows:,} rows, the most one upload "
        "may hold. Split it into smaller files."
    )


def open_xlsx(path: Path, limits: UploadLimits, sheet_name: str | None) -> XlsxUpload:
    """A checked XLSX upload; a damaged workbook (its zip or its XML) is refused in words."""
    try:
        return _open_xlsx(path, limits, sheet_name)
    except DAMAGED:
        raise FileFormatError(
            f"{path.name} is not a readable XLSX workbook (it is damaged)."
        ) from None


def _open_xlsx(path: Path, limits: UploadLimits, sheet_name: str | None) -> XlsxUpload:
    # lazy: openpyxl (~0.2 s) only when a workbook is read, not for the CSV uploads
    from openpyxl import load_workbook

    limits = replace(limits, max_rows=min(limits.max_rows, _EXCEL_ROWS))

    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise FileFormatError(f"{path.name} is not a readable XLSX workbook.") from None
    with archive:
        _check_parts(path, archive, limits)
        sheets = _sheet_parts(path, archive)
        names = [n for n, _ in sheets]
        if sheet_name is not None and sheet_name not in names:
            raise FileFormatError(
                f"{path.name} has no sheet named '{sheet_name}'; its sheets are {', '.join(names)}."
            )
        # flsdb's own template keeps the rows on a sheet named after them ('records' or
        # 'services') beside its 'guide' and 'codes' sheets: that sheet is the one read.
        own = next((n for n in names if n.strip().lower() in TEMPLATE_SHEETS), None)
        if sheet_name is None and own is not None:
            sheet_name = own
        chosen = sheet_name or names[0]
        # Every sheet is measured before openpyxl opens the workbook (it reads each whole sheet
        # that does not state its size).
        for name, part in sheets:
            if part not in archive.namelist():
                continue
            declared = _declared_rows(archive, part)
            if declared is not None and declared - 1 > limits.max_rows:
                raise FileFormatError(_too_many_rows(path.name, name, limits))
            try:
                rows, cell = _scan_sheet(archive, part, limits.max_rows)
            except FileFormatError as exc:
                raise FileFormatError(f"{path.name}: {exc}.") from None
            if rows - 1 > limits.max_rows:
                raise FileFormatError(_too_many_rows(path.name, name, limits))
            if cell is not None and name == chosen:
                raise FileFormatError(
                    f"{path.name}: cell {cell} holds a formula with no saved value, which "
                    "would be read as blank. Open the file in Excel, save it, and upload it "
                    "again (or paste the values over the formulas)."
                )
        try:
            book = load_workbook(path, read_only=True, data_only=True)
        except Exception:  # openpyxl raises many kinds for a damaged workbook
            raise FileFormatError(f"{path.name} is not a readable XLSX workbook.") from None
        try:
            if sheet_name is None:
                others = [
                    n
                    for n, part in sheets[1:]
                    if part in archive.namelist()
                    and _has_values(archive, part)
                    and n in book.sheetnames
                    and _has_data(book[n])
                ]
                if others:
                    listed = ", ".join([chosen, *others])
                    raise FileFormatError(
                        f"{path.name} has data on more than one sheet ({listed}); "
                        "keep the records on one sheet, or choose the sheet to upload."
                    )
            if chosen not in book.sheetnames:
                raise FileFormatError(f"{path.name} is not a readable XLSX workbook.")
            sheet = book[chosen]
            header_row = next(sheet.iter_rows(values_only=True, max_row=1), None)
            if header_row is None:
                raise FileFormatError(f"{path.name}: the sheet '{chosen}' is empty.")
            header = [_cell_text(h) or "" for h in header_row]
            columns = normalise_header(header, path.name, limits)
        finally:
            book.close()
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    upload = XlsxUpload(
        path=path,
        name=path.name,
        sha256=digest.hexdigest(),
        columns=columns,
        limits=limits,
        titles=tuple(h.strip() for h in header[: len(columns)]),
        sheet_name=chosen,
        width=len(columns),
    )
    if next(upload._raw_batches(1), None) is None:
        raise FileFormatError(f"{path.name} has a header row but no data rows.")
    return upload
