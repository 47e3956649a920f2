"""What the writer stores, as protocols: an upload's typed rows in batches, the file they came
from and their issue counts. Ingest's `ValidatedTable` is one such table; storage names only
what it reads, so it does not import ingest (the rows' shape, `ROW` and `LOST_LABEL`, is
`flsdb.dictionary.frames`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

import polars as pl


class SourceFile(Protocol):
    """The file the rows came from: logged with the import."""

    @property
    def name(self) -> str: ...

    @property
    def sha256(self) -> str: ...

    @property
    def columns(self) -> tuple[str, ...]: ...

    @property
    def keeps_absent_fields(self) -> bool:
        """Fields the file has no column for keep a stored record's values (a mapping profile's
        choice) instead of clearing them."""
        ...


class IssueCounts(Protocol):
    @property
    def warning_count(self) -> int: ...


class RowsToStore(Protocol):
    """Typed rows ready to store: `kind` ('records' or 'services'), the `blank` rule ('keep' or
    'clear'), the rows in batches (typed as `flsdb.dictionary.frames.storage_dtype`, with
    `ROW`), and a check that refuses them (ValidationFailed) if they have errors."""

    @property
    def kind(self) -> str: ...

    @property
    def blank(self) -> str: ...

    @property
    def height(self) -> int: ...

    @property
    def source(self) -> SourceFile: ...

    @property
    def issues(self) -> IssueCounts: ...

    def raise_if_invalid(self) -> None: ...

    def batches(self) -> Iterator[pl.DataFrame]: ...

    def service_codes(self) -> list[str]: ...
