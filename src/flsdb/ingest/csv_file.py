"""CSV uploads: UTF-8 text with commas (or, where a profile allows, Windows-1252 text and
semicolons), any line ending, every row one field per column.

The whole file is checked before its rows are read: its bytes (an allowed encoding, no NUL), its
header (length, columns), and by DuckDB's strict CSV reader that every row has as many fields as
the header (a short row would otherwise be stored with its last fields blank). A file with only
carriage returns as line ends (old Mac exports), or in Windows-1252, is read through a UTF-8
copy with line feeds.
"""

from __future__ import annotations

import csv
import io
import re
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from flsdb.errors import FileFormatError
from flsdb.ingest.issues import single_issue
from flsdb.ingest.limits import UploadLimits
from flsdb.ingest.text import UTF8, TextOptions, choose_delimiter, described, scan_text, utf8_copy
from flsdb.ingest.upload_file import UploadFile, normalise_header


@dataclass
class CsvUpload(UploadFile):
    readable: Path | None = None  # the file to read (a UTF-8 copy with line feeds, or the upload)
    width: int = 0  # fields per row, trailing unnamed columns included
    encoding: str = UTF8
    delimiter: str = ","
    text: TextOptions = field(default_factory=TextOptions)
    # The connection that counted the rows, kept for the first read of them (a DuckDB
    # connection takes about 10 ms of processor time to open: a third of a small file's read).
    counted_by: Any = field(default=None, repr=False, compare=False)

    def source_issues(self) -> list[pl.DataFrame]:
        """Which encoding and delimiter were found, when the upload allowed a choice."""
        if not self.text.detects:
            return []
        return [
            single_issue(
                "info",
                None,
                "",
                "",
                f"{self.name} was read as {described(self.encoding, self.delimiter)}.",
            )
        ]

    def _raw_batches(self, rows: int) -> Iterator[pl.DataFrame]:
        """Rows streamed by DuckDB's CSV reader (its memory stays near one batch, whatever the
        file's size)."""
        # lazy: DuckDB (~0.1 s) only when a CSV file is read, not by all of ingest's users
        import duckdb

        extra = [f"__unnamed_{i}" for i in range(self.width - len(self.columns))]
        names = [*self.columns, *extra]
        connection, self.counted_by = self.counted_by or _duckdb(), None
        offset = 2
        try:
            reader = connection.execute(
                _read_csv_sql(self.width, self.delimiter), [str(self.readable or self.path)]
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


def _header(
    path: Path, name: str, limits: UploadLimits, options: TextOptions
) -> tuple[list[str], str]:
    """The header row's fields, and the delimiter it uses."""
    with path.open("rb") as handle:
        head = handle.read(limits.max_header_bytes + 1)
    end = head.find(b"\n")
    if end < 0 and len(head) > limits.max_header_bytes:
        raise FileFormatError(
            f"{name}: the header row is longer than {limits.max_header_bytes // 1024:,} KB; "
            "it should hold the column names only."
        )
    line = (head if end < 0 else head[:end]).decode("utf-8", errors="replace").rstrip("\r")
    delimiter = choose_delimiter(line, options)
    if line.count(delimiter) + 1 > limits.max_columns:
        raise FileFormatError(
            f"{name}: the header row has {line.count(delimiter) + 1:,} columns; an upload may "
            f"have at most {limits.max_columns}."
        )
    try:
        return next(csv.reader(io.StringIO(line), delimiter=delimiter)), delimiter
    except (csv.Error, StopIteration):
        raise FileFormatError(f"{name}: the header row cannot be read as CSV.") from None


_LINE = re.compile(r"CSV Error on Line: (\d+)")
_LONGEST_LINE = 4 << 20  # bytes; a longer row is no record (see the cell limit)
_FIELDS = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")


def _duckdb() -> Any:
    """A DuckDB connection for reading one upload: two threads and a memory cap, so that a big
    file costs time rather than memory."""
    # lazy: as in _raw_batches
    import duckdb

    return duckdb.connect(config={"threads": 2, "memory_limit": "512MB"})


def _read_csv_sql(width: int, delimiter: str = ",") -> str:
    """Every field as text, every row exactly `width` fields (strict), no guessing."""
    assert delimiter in (",", ";")
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(width)) + "}"
    return (
        f"SELECT * FROM read_csv(?, delim='{delimiter}', header=true, quote='\"', escape='\"', "
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


def _strict_rows(
    connection: Any, path: Path, name: str, width: int, limits: UploadLimits, delimiter: str = ","
) -> int:
    """Data rows, counted by DuckDB's strict reader, which refuses a row with a different number
    of fields before any row is validated."""
    # lazy: as in _raw_batches
    import duckdb

    try:
        found = connection.execute(
            f"SELECT count(*) FROM ({_read_csv_sql(width, delimiter)})", [str(path)]
        ).fetchone()
    except duckdb.Error as exc:
        raise _csv_error(name, str(exc), limits) from None
    return int(found[0]) if found else 0


def open_csv(path: Path, limits: UploadLimits, text: TextOptions | None = None) -> CsvUpload:
    text = text or TextOptions()
    scan = scan_text(path, text)
    readable = utf8_copy(path, scan) if scan.needs_copy else path
    try:
        return _open_readable(path, readable, scan.sha256, scan.encoding, limits, text)
    except BaseException:
        if readable != path:
            _remove(readable)
        raise


def _open_readable(
    path: Path, readable: Path, digest: str, encoding: str, limits: UploadLimits, text: TextOptions
) -> CsvUpload:
    header, delimiter = _header(readable, path.name, limits, text)
    if len(header) < 2:
        if len(text.delimiters) > 1:
            raise FileFormatError(
                f"{path.name} does not look like a CSV file: its header has one column. Use "
                "commas or semicolons between columns."
            )
        raise FileFormatError(
            f"{path.name} does not look like a comma-separated file: its header has one column. "
            "Use commas between columns."
        )
    columns = normalise_header(header, path.name, limits)
    connection = _duckdb()
    try:
        rows = _strict_rows(connection, readable, path.name, len(header), limits, delimiter)
        if rows == 0:
            raise FileFormatError(f"{path.name} has a header row but no data rows.")
        if rows > limits.max_rows:
            raise FileFormatError(
                f"{path.name} has {rows:,} rows; one upload may hold at most "
                f"{limits.max_rows:,}. Split it into smaller files."
            )
    except BaseException:
        connection.close()
        raise
    upload = CsvUpload(
        path=path,
        name=path.name,
        sha256=digest,
        columns=columns,
        limits=limits,
        titles=tuple(h.replace("\ufeff", "").strip() for h in header[: len(columns)]),
        readable=readable if readable != path else None,
        width=len(header),
        encoding=encoding,
        delimiter=delimiter,
        text=text,
        counted_by=connection,
    )
    weakref.finalize(upload, connection.close)  # when never read (closing twice is harmless)
    if readable != path:
        weakref.finalize(upload, _remove, readable)
    return upload


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)
