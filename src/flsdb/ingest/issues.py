"""Validation problems as values: one table of (level, row, column, value, message).

Levels: an error refuses the upload, a warning is shown and stored with it, information (how
the file was read, columns it has that flsdb does not use) is shown only."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import polars as pl

from flsdb.dictionary.frames import ROW
from flsdb.sheets import csv_frame

Level = Literal["error", "warning", "info"]
ISSUE_SCHEMA = {
    "level": pl.String,
    "row": pl.Int64,
    "column": pl.String,
    "value": pl.String,
    "message": pl.String,
}


@dataclass(frozen=True)
class Issue:
    """One problem in an upload file; row is the spreadsheet row (the header is row 1)."""

    level: Level
    row: int | None
    column: str
    value: str
    message: str


def issue_frame(
    failing: pl.DataFrame, column: str, level: Level, message: str | pl.Expr, value: pl.Expr
) -> pl.DataFrame:
    """Issues for the rows of `failing`; `message` and `value` may be per-row expressions."""
    message_expr = message if isinstance(message, pl.Expr) else pl.lit(message)
    return failing.select(
        level=pl.lit(level),
        row=pl.col(ROW).cast(pl.Int64),
        column=pl.lit(column),
        value=value.cast(pl.String).fill_null(""),
        message=message_expr.cast(pl.String),
    )


def single_issue(
    level: Level, row: int | None, column: str, value: str, message: str
) -> pl.DataFrame:
    return pl.DataFrame(
        [{"level": level, "row": row, "column": column, "value": value, "message": message}],
        schema=ISSUE_SCHEMA,
    )


MAX_LISTED = 100_000
"""Issues kept in detail per file; beyond it they are counted (a file wrong on every row would
otherwise hold millions of issue rows in memory)."""


class IssueTable:
    """All issues of one file, sorted by row then column; at most `MAX_LISTED` in detail."""

    def __init__(self, frames: list[pl.DataFrame], unlisted: dict[str, int] | None = None) -> None:
        frames = [f for f in frames if f.height]
        table = pl.concat(frames) if frames else pl.DataFrame(schema=ISSUE_SCHEMA)
        self.frame = table.sort(["row", "column"], nulls_last=False)
        self.unlisted = dict(unlisted or {})

    @property
    def error_count(self) -> int:
        return int((self.frame["level"] == "error").sum()) + self.unlisted.get("error", 0)

    @property
    def warning_count(self) -> int:
        return int((self.frame["level"] == "warning").sum()) + self.unlisted.get("warning", 0)

    @property
    def info_count(self) -> int:
        return int((self.frame["level"] == "info").sum()) + self.unlisted.get("info", 0)

    @property
    def unlisted_count(self) -> int:
        return sum(self.unlisted.values())

    @property
    def has_errors(self) -> bool:
        return self.error_count > 0

    def errors(self) -> pl.DataFrame:
        return self.frame.filter(pl.col("level") == "error")

    def warnings(self) -> pl.DataFrame:
        return self.frame.filter(pl.col("level") == "warning")

    def infos(self) -> pl.DataFrame:
        return self.frame.filter(pl.col("level") == "info")

    def renamed(self, columns: dict[str, str]) -> IssueTable:
        """The same issues with columns named as `columns` says (dictionary name -> title)."""
        if not columns:
            return self
        table = IssueTable([], self.unlisted)
        table.frame = self.frame.with_columns(pl.col("column").replace(columns))
        return table

    def issues(self) -> list[Issue]:
        return [Issue(**row) for row in self.frame.iter_rows(named=True)]

    def csv_text(self) -> str:
        """All issues as CSV; a value that could run as a spreadsheet formula is made inert, and
        rows stay whole numbers (blank for an issue of the whole file)."""
        frame = self.frame.with_columns(pl.col("row").cast(pl.String))
        return str(csv_frame(frame.to_pandas()).to_csv(index=False))

    def write_csv(self, path: Path) -> Path:
        path.write_text(self.csv_text(), encoding="utf-8")
        return path


class IssueCollector:
    """Issues gathered batch by batch: the first `limit` kept, the rest only counted."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = MAX_LISTED if limit is None else limit
        self.frames: list[pl.DataFrame] = []
        self.kept = 0
        self.unlisted: dict[str, int] = {}

    def add(self, frame: pl.DataFrame) -> None:
        if frame.height == 0:
            return
        room = self.limit - self.kept
        if frame.height > room:
            for level, count in frame.slice(max(room, 0))["level"].value_counts().iter_rows():
                self.unlisted[level] = self.unlisted.get(level, 0) + int(count)
            frame = frame.head(max(room, 0))
        if frame.height:
            self.frames.append(frame)
            self.kept += frame.height

    def extend(self, frames: Iterable[pl.DataFrame]) -> None:
        for frame in frames:
            self.add(frame)

    def absorb(self, other: IssueCollector) -> None:
        """Another collector's issues: those it kept, and the count of those it did not."""
        self.extend(other.frames)
        for level, count in other.unlisted.items():
            self.unlisted[level] = self.unlisted.get(level, 0) + count

    def table(self) -> IssueTable:
        return IssueTable(self.frames, self.unlisted)
