"""CSV uploads: UTF-8 text with commas, any line ending, every row one field per column.

The whole file is checked before its rows are read: its bytes (UTF-8, no NUL), its header
(length, columns), and by DuckDB's strict CSV reader that every row has as many fields as the
header (a short row would otherwise be stored with its last fields blank). A file with only
carriage returns as line ends (old Mac exports) is read through a copy with line feeds.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import os
import re
import tempfile
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from flsdb.errors import FileFormatError
from flsdb.ingest.limits import UploadLimits
from flsdb.ingest.reader import UploadFile, normalise_header

_CHUNK = 1 << 20


@dataclass
class CsvUpload(UploadFile):
    readable: Path | None = None  # the file to read (a copy with line feeds, or the upload)
    width: int = 0  # fields per row, trailing unnamed columns included

    def _raw_batches(self, rows: int) -> Iterator[pl.DataFrame]:
        """Rows streamed by DuckDB's CSV reader (its memory stays near one batch, whatever the
        file's size)."""
        import duckdb

        extra = [f"__unnamed_{i}" for i in range(self.width - len(self.columns))]
        names = [*self.columns, *extra]
        connection = _duckdb()
        offset = 2
        try:
            reader = connection.execute(
                _read_csv_sql(self.width), [str(self.readable or self.path)]
            ).to_arrow_reader(rows)
            for arrow in reader:
                frame = pl.from_arrow(arrow)
                assert isinstance(frame, pl.DataFrame)
                batch = frame.rename(dict(zip(frame.columns, names, strict=True)))
                for column in extra:
                    filled = batch[column].str.strip_chars().replace("", None).is_not_null()
                    if filled.any():
                        index = filled.arg_max()
                        raise FileFormatError(
                            f"{self.name} row {offset + int(index or 0)} has a value in column "
                            f"{self.width - len(extra) + extra.index(column) + 1}, which has no "
                            "name in the header row."
                        )
                yield batch.drop(extra)
                offset += batch.height
        except duckdb.Error as exc:
            raise _csv_error(self.name, str(exc), self.limits) from None
        finally:
            connection.close()


def _scan_bytes(path: Path) -> tuple[str, bool]:
    """SHA-256 of the file, checking that it is UTF-8 text; and whether its lines end in bare
    carriage returns (streamed)."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    position = 0
    saw_cr = saw_lf = False
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            if b"\x00" in chunk:
                raise FileFormatError(f"{path.name} is not a CSV text file (it holds binary data).")
            saw_cr = saw_cr or b"\r" in chunk
            saw_lf = saw_lf or b"\n" in chunk
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
    return digest.hexdigest(), saw_cr and not saw_lf


def _with_line_feeds(path: Path) -> Path:
    """A temporary copy with carriage returns as line feeds (deleted with the upload)."""
    handle, name = tempfile.mkstemp(prefix="flsdb-upload-", suffix=".csv")
    with os.fdopen(handle, "wb") as out, path.open("rb") as source:
        while chunk := source.read(_CHUNK):
            out.write(chunk.replace(b"\r", b"\n"))
    return Path(name)


def _header(path: Path, name: str, limits: UploadLimits) -> list[str]:
    with path.open("rb") as handle:
        head = handle.read(limits.max_header_bytes + 1)
    end = head.find(b"\n")
    if end < 0 and len(head) > limits.max_header_bytes:
        raise FileFormatError(
            f"{name}: the header row is longer than {limits.max_header_bytes // 1024:,} KB; "
            "it should hold the column names only."
        )
    line = (head if end < 0 else head[:end]).decode("utf-8", errors="replace").rstrip("\r")
    if line.count(",") + 1 > limits.max_columns:
        raise FileFormatError(
            f"{name}: the header row has {line.count(',') + 1:,} columns; an upload may have at "
            f"most {limits.max_columns}."
        )
    try:
        return next(csv.reader(io.StringIO(line)))
    except (csv.Error, StopIteration):
        raise FileFormatError(f"{name}: the header row cannot be read as CSV.") from None


_LINE = re.compile(r"CSV Error on Line: (\d+)")
_LONGEST_LINE = 4 << 20  # bytes; a longer row is no record (see the cell limit)
_FIELDS = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")


def _duckdb() -> Any:
    """A DuckDB connection for reading one upload: two threads and a memory cap, so that a big
    file costs time rather than memory."""
    import duckdb

    return duckdb.connect(config={"threads": 2, "memory_limit": "512MB"})


def _read_csv_sql(width: int) -> str:
    """Every field as text, every row exactly `width` fields (strict), no guessing."""
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(width)) + "}"
    return (
        "SELECT * FROM read_csv(?, delim=',', header=true, quote='\"', escape='\"', "
        f"strict_mode=true, null_padding=false, auto_detect=false, columns={columns}, "
        f"max_line_size={_LONGEST_LINE})"
    )


def _csv_error(name: str, text: str, limits: UploadLimits) -> FileFormatError:
    """DuckDB's complaint in words, naming the line but never repeating it (it may hold patient
    data)."""
    line = _LINE.search(text)
    fields = _FIELDS.search(text)
    where = f"line {line.group(1)}" if line else "a line"
    if "maximum line size" in text.lower():
        return FileFormatError(
            f"{name} {where} is longer than {_LONGEST_LINE >> 20} MB, far more than a record "
            f"holds (a cell may hold at most {limits.max_cell_chars:,} characters); look for "
            "an unclosed quote or text pasted into a cell."
        )
    if fields:
        expected, found_fields = int(fields.group(1)), int(fields.group(2))
        count = f"{found_fields}" if found_fields < expected else f"more than {expected}"
        return FileFormatError(
            f"{name} {where} has {count} fields but the header has {expected}: every row "
            "needs one field per column (look for a missing or extra comma, or a comma "
            "inside a value without quotes)."
        )
    return FileFormatError(f"{name} cannot be read as CSV at {where} (an unclosed quote?).")


def _strict_rows(path: Path, name: str, width: int, limits: UploadLimits) -> int:
    """Data rows, counted by DuckDB's strict reader, which refuses a row with a different number
    of fields before any row is validated."""
    import duckdb

    connection = _duckdb()
    try:
        found = connection.execute(
            f"SELECT count(*) FROM ({_read_csv_sql(width)})", [str(path)]
        ).fetchone()
    except duckdb.Error as exc:
        raise _csv_error(name, str(exc), limits) from None
    finally:
        connection.close()
    return int(found[0]) if found else 0


def open_csv(path: Path, limits: UploadLimits) -> CsvUpload:
    digest, carriage_returns = _scan_bytes(path)
    readable = _with_line_feeds(path) if carriage_returns else path
    header = _header(readable, path.name, limits)
    if len(header) < 2:
        raise FileFormatError(
            f"{path.name} does not look like a comma-separated file: its header has one column. "
            "Use commas between columns."
        )
    columns = normalise_header(header, path.name, limits)
    rows = _strict_rows(readable, path.name, len(header), limits)
    if rows == 0:
        raise FileFormatError(f"{path.name} has a header row but no data rows.")
    if rows > limits.max_rows:
        raise FileFormatError(
            f"{path.name} has {rows:,} rows; one upload may hold at most {limits.max_rows:,}. "
            "Split it into smaller files."
        )
    upload = CsvUpload(
        path=path,
        name=path.name,
        sha256=digest,
        columns=columns,
        limits=limits,
        readable=readable if readable != path else None,
        width=len(header),
    )
    if readable != path:
        weakref.finalize(upload, _remove, readable)
    return upload


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)
