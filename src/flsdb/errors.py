"""Every exception flsdb raises on purpose, each with the HTTP status the web answers it with
(`status`, read by the one handler in flsdb.web.common; as datasette's `Base400.status`).

FlsdbError
 ├─ FileFormatError     an upload file cannot be read as a table (encoding, format, header)
 ├─ ValidationFailed    the file was read but has errors; nothing was stored
 ├─ ConfigurationError  an option, period or setting is not usable
 ├─ StorageError        the database could not be used
 ├─ NotFound            absent, or outside the caller's scope (not told apart)
 ├─ Forbidden           in scope, but the caller's role may not do it
 ├─ Conflict            based on an older version, or would duplicate a record
 ├─ Locked              the record's period is signed off or locked
 └─ Pending             the figures asked for are being computed; ask again shortly
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import polars as pl

__all__ = [
    "ConfigurationError",
    "Conflict",
    "FileFormatError",
    "FlsdbError",
    "Forbidden",
    "Locked",
    "NotFound",
    "Pending",
    "StorageError",
    "ValidationFailed",
]


class FlsdbError(Exception):
    """Base of the errors that carry a message meant for the user.

    The message is in words for anyone (the web shows it as it is); `command_line`, when given,
    says what to do on the command line (the option to give), which only the command line adds.
    """

    def __init__(self, *args: object, command_line: str | None = None) -> None:
        super().__init__(*args)
        self.command_line = command_line

    status = 400


class FileFormatError(FlsdbError):
    """The file is not a readable CSV or XLSX table."""

    status = 422


class Problem(Protocol):
    """One issue of a file, as a `ValidationFailed` carries it (flsdb.ingest.issues.Issue)."""

    @property
    def level(self) -> str: ...
    @property
    def row(self) -> int | None: ...
    @property
    def column(self) -> str: ...
    @property
    def value(self) -> str: ...
    @property
    def message(self) -> str: ...


class Problems(Protocol):
    """The issue table a `ValidationFailed` carries (flsdb.ingest.issues.IssueTable is one):
    what the front doors show of it."""

    @property
    def frame(self) -> pl.DataFrame: ...
    @property
    def error_count(self) -> int: ...
    @property
    def warning_count(self) -> int: ...
    @property
    def info_count(self) -> int: ...
    def issues(self) -> Sequence[Problem]: ...


class ValidationFailed(FlsdbError):
    """The file has validation errors; it carries the full issue table."""

    status = 422

    def __init__(self, issues: Problems) -> None:
        super().__init__(f"{issues.error_count} error(s) found; nothing was stored")
        self.issues = issues


class ConfigurationError(FlsdbError):
    """A setting or option cannot be used as given."""

    status = 422


class StorageError(FlsdbError):
    """The database could not be read or written."""

    status = 503


class NotFound(FlsdbError):
    """Absent, or outside the caller's scope: the two are not told apart."""

    status = 404


class Forbidden(FlsdbError):
    """In the caller's scope, but their role may not do this."""

    status = 403


class Conflict(FlsdbError):
    """The change was based on an older version, or would duplicate a record."""

    status = 409


class Locked(FlsdbError):
    """The period the record falls in is signed off or locked; nothing was changed."""

    status = 423


class Pending(FlsdbError):
    """The figures asked for are being computed; the same request succeeds shortly."""

    status = 503
