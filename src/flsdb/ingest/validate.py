"""Validate a whole upload file: header, types, codes and cross-column rules, batch by batch."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import polars as pl

from flsdb.dictionary import Dictionary, load_dictionary
from flsdb.ingest.issues import ROW, IssueCollector, IssueTable, single_issue
from flsdb.ingest.parse import parse_columns
from flsdb.ingest.reader import UploadFile
from flsdb.ingest.rules import (
    FIELD_RULES,
    RuleContext,
    duplicate_keys,
    run_checks,
    service_access,
)
from flsdb.ingest.spill import Spill

Kind = Literal["records", "services"]
# Columns a profile's mapping adds beside the fields, one per field whose label lost detail
# (`_label_lost__fracture_site` holds 'Non hip/non spine' where the file gave it): kept with the
# rows so that the store can note it in the audit trail.
LOST_LABEL = "_label_lost__"


@dataclass(frozen=True, eq=False)
class ValidatedTable:
    """Typed, normalised rows ready to store (row numbers kept in `_row`) and their issues.

    The rows wait on disk in batches (`batches()`); `frame` reads them all into memory, for
    small files and for queries over a file."""

    kind: Kind
    rows: Spill
    issues: IssueTable
    source: UploadFile

    @property
    def ok(self) -> bool:
        return not self.issues.has_errors

    @property
    def height(self) -> int:
        return self.rows.height

    def batches(self) -> Iterator[pl.DataFrame]:
        return self.rows.batches()

    def service_codes(self) -> list[str]:
        """The services the rows belong to (records), sorted."""
        codes: set[str] = set()
        for batch in self.rows.batches(columns=["service_code"]):
            codes.update(str(c) for c in batch["service_code"].drop_nulls().unique())
        return sorted(codes)

    @cached_property
    def frame(self) -> pl.DataFrame:
        return self.rows.read()

    def close(self) -> None:
        self.rows.close()


def _header_issues(upload: UploadFile, dictionary: Dictionary, kind: Kind) -> list[pl.DataFrame]:
    fields = dictionary.fields(kind)
    names = {f.name for f in fields}
    issues = [
        single_issue(
            "error",
            1,
            column,
            column,
            f"unknown column '{column}'; the {kind} file has the columns of the "
            "dictionary only (run 'flsdb dictionary' to list them)",
        )
        for column in upload.columns
        if column not in names
    ]
    issues += [
        single_issue("error", 1, spec.name, "", f"required column '{spec.name}' is missing")
        for spec in fields
        if spec.required and spec.name not in upload.columns
    ]
    return issues


def validate(
    upload: UploadFile,
    kind: Kind,
    *,
    known_services: set[str] | None = None,
    allowed_services: set[str] | None = None,
    upload_date: dt.date | None = None,
    dictionary: Dictionary | None = None,
    progress: Callable[[int], None] | None = None,
) -> ValidatedTable:
    """Check every rule of the dictionary on the whole file; nothing is stored here."""
    dictionary = dictionary or load_dictionary()
    ctx = RuleContext(dictionary, upload_date or dt.date.today())
    fields = dictionary.fields(kind)
    present = [spec for spec in fields if spec.name in upload.columns]
    issues = IssueCollector()
    issues.extend(_header_issues(upload, dictionary, kind))
    unique = (
        dictionary.record_key if kind == "records" else tuple(f.name for f in fields if f.unique)
    )
    keys: list[pl.DataFrame] = []
    rows = Spill()
    for raw in upload.batches():
        # Columns outside the dictionary are reported by the header check and not parsed.
        typed, type_issues = parse_columns(raw, fields, dictionary)
        lost = [c for c in raw.columns if c.startswith(LOST_LABEL)]
        if lost:
            typed = typed.with_columns(raw.select(lost))
        del raw
        issues.extend(type_issues)
        checks = [c for spec in present for rule in FIELD_RULES for c in rule(spec, typed, ctx)]
        if kind == "records" and known_services is not None:
            checks.extend(service_access(typed, known_services, allowed_services))
        issues.extend(run_checks(typed, checks))
        keys.append(typed.select(ROW, *[c for c in unique if c in typed.columns]))
        rows.append(typed)
        if progress:
            progress(typed.height)
    upload.collect_issues(issues)
    key_frame = pl.concat(keys)
    del keys
    if kind == "records":
        what = "record key (service, NHS number and fracture date)"
        if all(c in key_frame.columns for c in unique):
            issues.extend(duplicate_keys(key_frame, unique, what))
    else:
        for column in (c for c in unique if c in key_frame.columns):
            issues.extend(duplicate_keys(key_frame, (column,), column.replace("_", " ")))
    table = issues.table().renamed(upload.issue_columns())
    return ValidatedTable(kind=kind, rows=rows, issues=table, source=upload)


def validate_file(path: object, kind: Kind, **options: object) -> ValidatedTable:
    """Open and validate in one call (for scripts and tests)."""
    from pathlib import Path

    from flsdb.ingest.reader import open_upload

    return validate(open_upload(Path(str(path))), kind, **options)  # type: ignore[arg-type]
