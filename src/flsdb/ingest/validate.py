"""Validate a whole upload file: header, types, codes and cross-column rules, batch by batch."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal

import polars as pl

from flsdb.dictionary import Dictionary, load_dictionary
from flsdb.dictionary.frames import LOST_LABEL
from flsdb.dictionary.schema import FieldSpec
from flsdb.errors import ValidationFailed
from flsdb.ingest.date_order import DateOrder
from flsdb.ingest.issues import ROW, IssueCollector, IssueTable, issue_frame, single_issue
from flsdb.ingest.parse import REPORTED, parse_columns
from flsdb.ingest.reader import UploadFile, open_upload
from flsdb.ingest.rules import (
    FIELD_RULES,
    RuleContext,
    duplicate_keys,
    run_checks,
    service_access,
)
from flsdb.ingest.spill import Spill

Kind = Literal["records", "services"]
# What a blank cell (or a column the file lacks) does to a stored record: `keep` its value (the
# default, as REDCap's import does) or `clear` it (the file is the whole record).
Blank = Literal["keep", "clear"]
# The stored records whose keys are among the given keys (id, version and every record column,
# typed as the writer types them); used to check a `keep` upload on the records as they would be
# stored.
StoredLookup = Callable[[pl.DataFrame], pl.DataFrame]


@dataclass(frozen=True, eq=False)
class ValidatedTable:
    """Typed, normalised rows ready to store (row numbers kept in `_row`) and their issues.

    The rows wait on disk in batches (`batches()`); `frame` reads them all into memory, for
    small files and for queries over a file."""

    kind: Kind
    rows: Spill
    issues: IssueTable
    source: UploadFile
    blank: Blank = "keep"

    @property
    def ok(self) -> bool:
        return not self.issues.has_errors

    def raise_if_invalid(self) -> None:
        """Refuse the rows (ValidationFailed, with their issues) if they have errors."""
        if not self.ok:
            raise ValidationFailed(self.issues)

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


def _header_issues(
    upload: UploadFile, dictionary: Dictionary, kind: Kind, blank: Blank = "clear"
) -> list[pl.DataFrame]:
    fields = dictionary.fields(kind)
    names = {f.name for f in fields}
    # Where the headings are written down: the records template (on the upload page), or the
    # data dictionary's services table.
    where = (
        "the template's columns only (download it on the upload page)"
        if kind == "records"
        else "the columns of the data dictionary's services table only"
    )
    heads = "the template heads it" if kind == "records" else "the data dictionary heads it"
    issues = [
        single_issue(
            "error",
            1,
            column,
            column,
            f"The file has a column headed '{column}', which is not in the data dictionary: "
            f"a {kind} file has {where}",
        )
        for column in upload.columns
        if column not in names
    ]
    issues += [
        single_issue(
            "error",
            1,
            spec.name,
            "",
            f"The file has no column for {spec.label}, which is required: add it as {heads}",
        )
        for spec in fields
        if spec.required
        and spec.name not in upload.columns
        and (blank == "clear" or spec.name in dictionary.record_key)
    ]
    return issues


def _merged(
    typed: pl.DataFrame, stored: StoredLookup | None, key: tuple[str, ...]
) -> tuple[pl.DataFrame, pl.Series]:
    """The rows as a `keep` upload would store them (a blank cell takes the stored record's
    value), and which rows are stored records already."""
    if stored is None or not all(k in typed.columns for k in key):
        return typed, pl.Series([False] * typed.height)
    found = stored(typed.select(key))
    others = [c for c in typed.columns if c != ROW and c not in key]
    old = found.select(
        *key, *[pl.col(c).alias(f"{c}__stored") for c in others if c in found.columns]
    )
    old = old.with_columns(__stored=pl.lit(True))
    joined = typed.join(old, on=list(key), how="left", nulls_equal=True, coalesce=True)
    present = joined["__stored"].fill_null(False)
    merged = joined.select(
        ROW,
        *[
            pl.coalesce(c, f"{c}__stored").alias(c) if f"{c}__stored" in joined.columns else c
            for c in typed.columns
            if c != ROW
        ],
    )
    return merged, present


def _blank_required(
    merged: pl.DataFrame,
    raw: pl.DataFrame,
    fields: tuple[FieldSpec, ...],
    columns: tuple[str, ...],
) -> list[pl.DataFrame]:
    """Required fields blank in the record as it would be stored (a new record, or a stored
    record whose file row and stored value are both blank)."""
    issues = []
    reported = raw[REPORTED] if REPORTED in raw.columns else None
    for spec in fields:
        if not spec.required or merged[spec.name].null_count() == 0:
            continue
        mask = merged[spec.name].is_null()
        if spec.name in raw.columns:  # a value of the wrong type is reported as such
            mask = mask & raw[spec.name].is_null()
        if reported is not None:
            mask = mask & ~reported.list.contains(spec.name).fill_null(False)
        blank = merged.filter(mask)
        if spec.name in columns:
            message = f"{spec.label} is required but blank"
        else:
            message = (
                f"{spec.label} is required for a new record, and the file has no column for it"
            )
        issues.append(issue_frame(blank, spec.name, "error", message, pl.lit("")))
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
    blank: Blank = "keep",
    stored: StoredLookup | None = None,
) -> ValidatedTable:
    """Check every rule of the dictionary on the whole file; nothing is stored here.

    Records with `blank="keep"` (the default): a blank cell or an absent column keeps a stored
    record's value, so the rules are checked on each row merged with the stored record of its
    key (found through `stored`), and a required field is missing only where both are blank
    (only the key columns must be in the file). The rows kept for the store are the file's
    own: the store merges them again under its lock."""
    dictionary = dictionary or load_dictionary()
    ctx = RuleContext(dictionary, upload_date or dt.date.today())
    fields = dictionary.fields(kind)
    present = [spec for spec in fields if spec.name in upload.columns]
    issues = IssueCollector()
    keep = kind == "records" and blank == "keep"
    issues.extend(_header_issues(upload, dictionary, kind, blank if kind == "records" else "clear"))
    unique = (
        dictionary.record_key if kind == "records" else tuple(f.name for f in fields if f.unique)
    )
    keys: list[pl.DataFrame] = []
    rows = Spill()
    order = DateOrder(tuple(present))
    for raw in upload.batches():
        order.observe(raw)
        # Columns outside the dictionary are reported by the header check and not parsed.
        typed, type_issues = parse_columns(raw, fields, dictionary, check_required=not keep)
        issues.extend(type_issues)
        checked = typed
        if keep:
            checked, _ = _merged(typed, stored, dictionary.record_key)
            issues.extend(_blank_required(checked, raw, fields, upload.columns))
        lost = [c for c in raw.columns if c.startswith(LOST_LABEL)]
        if lost:
            typed = typed.with_columns(raw.select(lost))
        del raw
        checks = [c for spec in present for rule in FIELD_RULES for c in rule(spec, checked, ctx)]
        if kind == "records" and known_services is not None:
            checks.extend(service_access(typed, known_services, allowed_services))
        issues.extend(run_checks(checked, checks))
        del checked
        keys.append(typed.select(ROW, *[c for c in unique if c in typed.columns]))
        rows.append(typed)
        if progress:
            progress(typed.height)
    upload.collect_issues(issues)
    order.report(issues)
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
    return ValidatedTable(
        kind=kind,
        rows=rows,
        issues=table,
        source=upload,
        blank=blank if kind == "records" else "clear",
    )


def validate_file(path: object, kind: Kind, **options: object) -> ValidatedTable:
    """Open and validate in one call (for scripts and tests)."""
    return validate(open_upload(Path(str(path))), kind, **options)  # type: ignore[arg-type]
