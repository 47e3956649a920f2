"""Records typed into a form or sent as JSON, read as an upload of a few rows: the same
validation as a file, row of one."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from flsdb.ingest.limits import WEB
from flsdb.ingest.reader import UploadFile, normalise_header


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)
    return str(value)


@dataclass
class RowsUpload(UploadFile):
    rows: list[dict[str, str | None]] = field(default_factory=list)

    def _raw_batches(self, rows: int) -> Iterator[pl.DataFrame]:
        schema = {c: pl.String() for c in self.columns}
        yield pl.DataFrame(
            [[r.get(c) for c in self.columns] for r in self.rows], schema=schema, orient="row"
        )


def rows_upload(rows: Sequence[Mapping[str, object]], name: str = "form") -> RowsUpload:
    """An upload of these rows; every row's keys are the columns (the first row's order)."""
    columns: list[str] = []
    for row in rows:
        columns += [str(c) for c in row if str(c) not in columns]
    header = normalise_header(columns or [""], name, WEB)
    texts = [{str(k).strip().lower(): _text(v) for k, v in r.items()} for r in rows]
    digest = hashlib.sha256(json.dumps(texts, sort_keys=True).encode()).hexdigest()
    return RowsUpload(
        path=Path(name), name=name, sha256=digest, columns=header, limits=WEB, rows=texts
    )
