"""The upload file every reader gives (`UploadFile`): its normalised header, hash and rows in
batches of stripped strings with their spreadsheet row numbers, checked as they are read (no
cell longer than the limit, no more rows than the limit). The CSV and XLSX readers
(`csv_file`, `xlsx_file`) subclass it; `reader.open_upload` chooses between them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import polars as pl

from flsdb.errors import FileFormatError
from flsdb.ingest.cells import FEW_ROWS
from flsdb.ingest.issues import ROW, IssueCollector
from flsdb.ingest.limits import UploadLimits

BATCH_ROWS = 50_000


@dataclass
class UploadFile:
    """A readable upload file: its normalised header, hash, and its rows in batches."""

    path: Path
    name: str
    sha256: str
    columns: tuple[str, ...]
    limits: UploadLimits = field(default_factory=UploadLimits)
    # The column names as the header row writes them (trimmed), beside `columns`.
    titles: tuple[str, ...] = ()
    # Fields the file has no column for keep a stored record's values (a mapping profile's
    # choice) instead of clearing them.
    keeps_absent_fields: bool = False

    def source_issues(self) -> list[pl.DataFrame]:
        """Issues found while reading the file (after its batches were read), such as the
        encoding it was read in; none for a plain file."""
        return []

    def collect_issues(self, collector: IssueCollector) -> None:
        """Add the issues found while reading to a file's issues (after its batches)."""
        collector.extend(self.source_issues())

    def issue_columns(self) -> dict[str, str]:
        """The name issues give each column, when it differs from the dictionary's (a column
        mapped by a profile is named as the file's header names it)."""
        return {}

    def batches(self, rows: int | None = None) -> Iterator[pl.DataFrame]:
        """Cells as stripped strings (blank -> null) with `_row`, the spreadsheet row number;
        `BATCH_ROWS` rows at a time unless told."""
        offset = 2  # the header is row 1
        for batch in self._raw_batches(rows or BATCH_ROWS):
            self._check_cells(batch, offset)
            if offset - 2 + batch.height > self.limits.max_rows:
                raise FileFormatError(
                    f"{self.name} has more than {self.limits.max_rows:,} rows, the most one upload "
                    "may hold; split it into smaller files."
                )
            yield batch.with_columns(_stripped(tuple(self.columns))).with_row_index(
                ROW, offset=offset
            )
            offset += batch.height

    def _check_cells(self, batch: pl.DataFrame, offset: int) -> None:
        limit = self.limits.max_cell_chars
        longest: dict[str, int | None]
        if batch.height <= FEW_ROWS:  # a record typed or sent: counted here, no query planned
            longest = {
                c: max((len(v) for v in batch[c] if v is not None), default=None)
                for c in self.columns
            }
        else:
            longest = batch.select(pl.col(c).str.len_chars().max() for c in self.columns).row(
                0, named=True
            )
        for column in self.columns:
            if (length := longest[column]) is not None and length > limit:
                index = batch[column].str.len_chars().arg_max()
                raise FileFormatError(
                    f"{self.name} row {offset + int(index or 0)}, column {column}: the cell holds "
                    f"{length:,} characters; a cell may hold at most {limit:,}."
                )

    def _raw_batches(self, rows: int) -> Iterator[pl.DataFrame]:
        raise NotImplementedError

    def read_all(self) -> pl.DataFrame:
        return pl.concat(list(self.batches()))


def normalise_header(header: list[str], name: str, limits: UploadLimits) -> tuple[str, ...]:
    """Column names trimmed and in lower case; trailing unnamed columns are left out (a
    spreadsheet saves them), any other unnamed or repeated column refuses the file."""
    cleaned = [h.replace("\ufeff", "").strip().lower() for h in header]
    while cleaned and not cleaned[-1]:
        cleaned.pop()
    if not cleaned:
        raise FileFormatError(f"{name}: the first row must hold the column names; it is blank.")
    if len(cleaned) > limits.max_columns:
        raise FileFormatError(
            f"{name}: the header row has {len(cleaned):,} columns; an upload may have at most "
            f"{limits.max_columns}."
        )
    blanks = [i + 1 for i, h in enumerate(cleaned) if not h]
    if blanks:
        raise FileFormatError(f"{name}: column {blanks[0]} of the header row has no name.")
    seen: set[str] = set()
    for column in cleaned:
        if not column.isascii() or not column.isprintable():
            raise FileFormatError(
                f"{name}: the column name '{column[:40]}' has characters a column name cannot "
                "have; use the names of the data dictionary."
            )
        if column in seen:
            raise FileFormatError(
                f"{name}: the column '{column}' appears twice in the header row; "
                "each column may appear once."
            )
        seen.add(column)
    return tuple(cleaned)


@lru_cache(maxsize=32)
def _stripped(columns: tuple[str, ...]) -> list[pl.Expr]:
    """Each column's cells stripped, blank -> null (built once per set of columns)."""
    return [pl.col(c).str.strip_chars().replace("", None) for c in columns]
