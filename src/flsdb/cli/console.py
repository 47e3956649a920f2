"""Terminal output shared by the commands: messages on stderr, data on stdout.

Values from files and the database are escaped before printing: Rich would read `[/]` or
`[link=...]` in a cell as markup.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from rich.progress import Progress

    from flsdb.errors import Problems

# Piped output (CI logs, files) has no terminal width: give tables room instead of 80 columns.
# Messages are never wrapped by flsdb (soft wrap): a terminal wraps them, a log keeps one line.
out = Console() if Console().is_terminal else Console(width=140)
err = Console(stderr=True) if Console(stderr=True).is_terminal else Console(stderr=True, width=140)
SHOWN_ISSUES = 40


@contextmanager
def progress_bar() -> Iterator[Progress]:
    """A progress display on stderr (hidden when stderr is not a terminal)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as progress:
        yield progress


def show_issues(issues: Problems, level: str | None = None) -> None:
    """The first issues as a table (row, column, value, message); the rest counted."""
    import polars as pl
    from rich.table import Table

    frame = issues.frame if level is None else issues.frame.filter(pl.col("level") == level)
    total = {
        "error": issues.error_count,
        "warning": issues.warning_count,
        "info": issues.info_count,
    }.get(level or "", issues.error_count + issues.warning_count + issues.info_count)
    if total == 0:
        return
    title = {"info": "note"}.get(level or "", level or "issue")
    table = Table(title=f"{total:,} {title}(s)", show_lines=False)
    for column in ("level", "row", "column", "value", "message"):
        table.add_column(column, overflow="fold")
    for item in frame.head(SHOWN_ISSUES).iter_rows(named=True):
        colour = {"error": "red", "warning": "yellow"}.get(item["level"], "cyan")
        table.add_row(
            f"[{colour}]{item['level']}[/]",
            str(item["row"] or ""),
            escape(str(item["column"])),
            escape(str(item["value"])),
            escape(str(item["message"])),
        )
    err.print(table)
    shown = min(frame.height, SHOWN_ISSUES)
    if total > shown:
        listed = "" if frame.height == total else f" (the file lists the first {frame.height:,})"
        err.print(f"... and {total - shown:,} more: use --errors FILE for them{listed}.")


def fail(message: str) -> None:
    err.print(f"[bold red]Error:[/] {escape(message)}", soft_wrap=True)


def warn(message: str) -> None:
    err.print(f"[bold yellow]Warning:[/] {escape(message)}", soft_wrap=True)


def note(message: str) -> None:
    err.print(escape(message), soft_wrap=True)


def say(message: str) -> None:
    out.print(escape(message), soft_wrap=True)
