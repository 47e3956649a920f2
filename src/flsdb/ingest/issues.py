"""Validation problems as values: one table of (level, row, column, value, message)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import polars as pl

Level = Literal["error", "warning"]
ROW = "_row"
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


class IssueTable:
    """All issues of one file, sorted by row then column."""

    def __init__(self, frames: list[pl.DataFrame]) -> None:
        frames = [f for f in frames if f.height]
        table = pl.concat(frames) if frames else pl.DataFrame(schema=ISSUE_SCHEMA)
        self.frame = table.sort(["row", "column"], nulls_last=False)

    @property
    def error_count(self) -> int:
        return int((self.frame["level"] == "error").sum())

    @property
    def warning_count(self) -> int:
        return int((self.frame["level"] == "warning").sum())

    @property
    def has_errors(self) -> bool:
        return self.error_count > 0

    def errors(self) -> pl.DataFrame:
        return self.frame.filter(pl.col("level") == "error")

    def warnings(self) -> pl.DataFrame:
        return self.frame.filter(pl.col("level") == "warning")

    def issues(self) -> list[Issue]:
        return [Issue(**row) for row in self.frame.iter_rows(named=True)]

    def write_csv(self, path: Path) -> Path:
        """All issues as CSV; a value that could run as a spreadsheet formula is made inert."""
        from flsdb.sheets import csv_frame

        csv_frame(self.frame.to_pandas()).to_csv(path, index=False)
        return path
