"""Validate a whole upload file in one pass: header, types, codes and cross-column rules."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

import polars as pl

from flsdb.dictionary import Dictionary, load_dictionary
from flsdb.ingest.issues import IssueTable, single_issue
from flsdb.ingest.parse import parse_columns
from flsdb.ingest.reader import RawTable
from flsdb.ingest.rules import FIELD_RULES, RuleContext, duplicate_keys, service_access

Kind = Literal["records", "services"]


@dataclass(frozen=True)
class ValidatedTable:
    """Typed, normalised rows ready to store (row numbers kept in `_row`) and their issues."""

    kind: Kind
    frame: pl.DataFrame
    issues: IssueTable
    source: RawTable

    @property
    def ok(self) -> bool:
        return not self.issues.has_errors


def _header_issues(raw: RawTable, dictionary: Dictionary, kind: Kind) -> list[pl.DataFrame]:
    fields = dictionary.fields(kind)
    names = {f.name for f in fields}
    issues = [
        single_issue("error", 1, column, column,
                     f"unknown column '{column}'; the {kind} file has the columns of the "
                     "dictionary only (run 'flsdb dictionary' to list them)")
        for column in raw.columns if column not in names
    ]
    issues += [
        single_issue("error", 1, spec.name, "", f"required column '{spec.name}' is missing")
        for spec in fields if spec.required and spec.name not in raw.columns
    ]
    return issues


def validate(
    raw: RawTable,
    kind: Kind,
    *,
    known_services: set[str] | None = None,
    allowed_services: set[str] | None = None,
    upload_date: dt.date | None = None,
    dictionary: Dictionary | None = None,
) -> ValidatedTable:
    """Check every rule of the dictionary on the whole file; nothing is stored here."""
    dictionary = dictionary or load_dictionary()
    ctx = RuleContext(dictionary, upload_date or dt.date.today())
    fields = dictionary.fields(kind)
    issues = _header_issues(raw, dictionary, kind)
    typed, type_issues = parse_columns(raw.frame, fields, dictionary)
    issues += type_issues
    for spec in fields:
        if spec.name not in raw.columns:
            continue
        for rule in FIELD_RULES:
            issues.extend(rule(spec, typed, ctx))
    if kind == "records":
        issues.extend(duplicate_keys(typed, dictionary.record_key, "record key (service, NHS "
                                     "number and fracture date)"))
        if known_services is not None:
            issues.extend(service_access(typed, known_services, allowed_services))
    else:
        unique = tuple(f.name for f in fields if f.unique)
        for column in unique:
            issues.extend(duplicate_keys(typed, (column,), column.replace("_", " ")))
    return ValidatedTable(kind=kind, frame=typed, issues=IssueTable(issues), source=raw)
