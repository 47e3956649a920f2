"""Validate a whole upload file: header, types, codes and cross-column rules, batch by batch."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import polars as pl

from flsdb.dictionary import Dictionary, load_dictionary
from flsdb.ingest.issues import IssueTable, single_issue
from flsdb.ingest.parse import parse_columns
from flsdb.ingest.reader import UploadFile
from flsdb.ingest.rules import FIELD_RULES, RuleContext, duplicate_keys, service_access

Kind = Literal["records", "services"]


@dataclass(frozen=True)
class ValidatedTable:
    """Typed, normalised rows ready to store (row numbers kept in `_row`) and their issues."""

    kind: Kind
    frame: pl.DataFrame
    issues: IssueTable
    source: UploadFile

    @property
    def ok(self) -> bool:
        return not self.issues.has_errors


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
    issues = _header_issues(upload, dictionary, kind)
    typed_batches = []
    for raw in upload.batches():
        # Columns outside the dictionary are reported by the header check and not parsed.
        typed, type_issues = parse_columns(raw, fields, dictionary)
        del raw
        issues += type_issues
        for spec in present:
            for rule in FIELD_RULES:
                issues.extend(rule(spec, typed, ctx))
        if kind == "records" and known_services is not None:
            issues.extend(service_access(typed, known_services, allowed_services))
        typed_batches.append(typed)
        if progress:
            progress(typed.height)
    frame = pl.concat(typed_batches, rechunk=True)
    if kind == "records":
        issues.extend(
            duplicate_keys(
                frame, dictionary.record_key, "record key (service, NHS number and fracture date)"
            )
        )
    else:
        for column in (f.name for f in fields if f.unique):
            issues.extend(duplicate_keys(frame, (column,), column.replace("_", " ")))
    return ValidatedTable(kind=kind, frame=frame, issues=IssueTable(issues), source=upload)


def validate_file(path: object, kind: Kind, **options: object) -> ValidatedTable:
    """Open and validate in one call (for scripts and tests)."""
    from pathlib import Path

    from flsdb.ingest.reader import open_upload

    return validate(open_upload(Path(str(path))), kind, **options)  # type: ignore[arg-type]
