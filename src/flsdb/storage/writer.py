"""Store validated uploads: insert or update by key in one transaction, audited and logged.

A row whose key is stored updates that record. With the table's `blank` rule `keep` (the
default) a blank cell keeps the stored value, merged here under the session's lock (so a value
written since validation is kept too); with `clear` the file is the whole record.

Audit rows: an update keeps the changed row's values before and after; a delete keeps the values
before. An import's insert keeps no copy of the values (its `after` is empty): they are the record
as stored, and the first later update keeps them as its `before`, so the full history can be
rebuilt without writing every new record twice (which would halve the import speed); an insert in
the form or the API (storage/edits.py) keeps its values. A record an import wrote from
a label that lost detail (a 2023 FLS-DB site 'Non hip/non spine', stored as `other`) gets a
`label_lost` row with the labels, under the import's id: while the record's `import_id` is that
import's, its values are the ones that label gave.
"""

from __future__ import annotations

import datetime as dt
import getpass
from dataclasses import dataclass

import polars as pl
from sqlalchemy import Engine, select

from flsdb.dictionary import load_dictionary
from flsdb.dictionary.frames import LOST_LABEL, ROW, storage_dtype
from flsdb.storage.audit import INSERT, LABEL_LOST, UPDATE, event_frame, key_expr
from flsdb.storage.bulk import BulkSession, bulk_session
from flsdb.storage.changes import ChangeReport, RecordsMoved, moved_message
from flsdb.storage.figures import Maintainer, for_session, ids_where
from flsdb.storage.inputs import RowsToStore
from flsdb.storage.locks import ACTIVE_SQL, check_batch, locks_from_tuples
from flsdb.storage.offsets import offset_exprs
from flsdb.storage.tables import RECORD_COLUMNS, SERVICE_COLUMNS, services
from flsdb.storage.write_locks import SERVICES_LOCK, record_locks

SLICE_ROWS = 100_000


@dataclass(frozen=True)
class ImportSummary:
    """What one upload changed."""

    import_id: int
    rows: int
    inserted: int
    updated: int
    unchanged: int
    warnings: int


def default_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def table_schema(kind: str, columns: tuple[str, ...]) -> dict[str, pl.DataType]:
    dictionary = load_dictionary()
    fields = dictionary.record_fields if kind == "records" else dictionary.service_fields
    return {c: storage_dtype(fields[c], dictionary) for c in columns}


def _changed(columns: list[str]) -> pl.Expr:
    """True where any column differs from its `_old` twin (null-aware)."""
    return pl.any_horizontal([pl.col(c).ne_missing(pl.col(f"{c}_old")) for c in columns])


def _row_json(columns: list[str], suffix: str = "") -> pl.Expr:
    return pl.struct(
        [pl.col(f"{c}{suffix}").cast(pl.String).alias(c) for c in columns]
    ).struct.json_encode()


def _insert_sliced(session: BulkSession, table: str, frame: pl.DataFrame) -> None:
    for part in frame.iter_slices(SLICE_ROWS):
        session.insert(table, part)


def _start_import(session: BulkSession, table: RowsToStore, user: str, at: dt.datetime) -> int:
    values = (
        table.kind,
        user,
        at.isoformat(sep=" "),
        table.source.name,
        table.source.sha256,
        table.height,
        0,
        0,
        0,
        table.issues.warning_count,
    )
    marks = ", ".join(session.mark for _ in values)
    rows = session.execute(
        "INSERT INTO import_log (kind, user_name, imported_at, file_name, file_sha256, rows, "
        f"inserted, updated, unchanged, warnings) VALUES ({marks}) RETURNING id",
        values,
    )
    return int(rows[0][0])  # type: ignore[call-overload]


@dataclass(frozen=True)
class _Target:
    """Where an upload goes: its table, columns, key, the stored types, and its locks."""

    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    schema: dict[str, pl.DataType]
    # What records have and services have not:
    versioned: bool = False  # an update raises the row's version (edits compare it)
    stamped: bool = False  # rows keep the import that wrote them and their day offsets
    figures: bool = False  # the maintained figures follow the rows
    signed_off: bool = False  # rows of a signed-off quarter or locked year are refused
    blank_rule: bool = False  # the upload's `blank` rule applies (keep: a blank keeps a value)
    lost_labels: bool = False  # labels that lost detail are noted in the audit log

    @property
    def others(self) -> list[str]:
        return [c for c in self.columns if c not in self.key]


def _lost_labels(batch: pl.DataFrame, key: tuple[str, ...]) -> pl.DataFrame | None:
    """The key of each row a profile mapped from a label that lost detail, and the labels as a
    JSON object (`{"fracture_site":"Non hip/non spine"}`); None when there are none."""
    lost = [c for c in batch.columns if c.startswith(LOST_LABEL)]
    if not lost:
        return None
    rows = batch.filter(pl.any_horizontal(pl.col(c).is_not_null() for c in lost))
    if rows.height == 0:
        return None
    # The labels are the profile's own (letters, spaces, '/'), so leaving out nulls is safe.
    labels = (
        pl.struct([pl.col(c).alias(c.removeprefix(LOST_LABEL)) for c in lost])
        .struct.json_encode()
        .str.replace_all(r'"[a-z0-9_]+":null,?', "")
        .str.replace(r",\}$", "}")
    )
    return rows.select(*key, after=labels)


def _upsert_batch(
    session: BulkSession,
    target: _Target,
    new: pl.DataFrame,
    import_id: int,
    user: str,
    at: dt.datetime,
    kept: tuple[str, ...] = (),
    lost: pl.DataFrame | None = None,
    keep_blanks: bool = False,
    report: ChangeReport | None = None,
) -> tuple[int, int, int]:
    """Insert the batch's new keys, update its changed rows, audit both: (inserted, updated,
    unchanged). The stored rows compared are read under the session's lock. Columns in `kept`
    (fields the file has no column for, under a profile that keeps them) keep their stored
    values, and with `keep_blanks` so does every blank cell; `lost` notes labels that lost
    detail in the records written; `report` collects the field changes and versions seen."""
    key, others = target.key, target.others
    existing = session.matching(target.name, new.select(key), list(target.schema), target.schema)
    old = existing.rename({c: f"{c}_old" for c in others}).with_columns(_present=pl.lit(True))
    joined = new.join(old, on=list(key), how="left", nulls_equal=True, coalesce=True)
    if kept:
        joined = joined.with_columns(pl.col(f"{c}_old").alias(c) for c in kept)
    if keep_blanks:
        joined = joined.with_columns(pl.coalesce(c, f"{c}_old").alias(c) for c in others)
    matched = pl.col("_present").fill_null(False)
    fresh = joined.filter(~matched).select(target.columns)
    matched_rows = joined.filter(matched)
    changed = matched_rows.filter(_changed(others))
    if report is not None and ROW in joined.columns and "version" in joined.columns:
        report.seen.extend(matched_rows.select(ROW, "id", "version").iter_rows())
        report.add(changed, others)
    del joined, existing, old
    stamps = {"updated_at": pl.lit(at)}
    figures: Maintainer | None = None
    if target.stamped:
        stamps["import_id"] = pl.lit(import_id)
        stamps.update(offset_exprs())
    if target.figures:
        # The figures lose the changed records as they were, and gain them as written and the
        # new ones (ids above every id before, written by this import), set-based.
        figures = for_session(session, _dialect(session))
        figures.before(ids_where(changed["id"]))
        last = session.execute("SELECT max(id) FROM records")[0][0]
    _insert_sliced(session, target.name, fresh.with_columns(created_at=pl.lit(at), **stamps))
    if "id" in changed.columns:
        written = changed.select(*others, **stamps, id=pl.col("id"))
        session.update(target.name, written, "id", versioned=target.versioned)
    else:
        written = changed.select(*others, *key, **stamps)
        session.update(target.name, written, key[0], versioned=target.versioned)
    if figures is not None:
        figures.after(ids_where(changed["id"]))
        if fresh.height:
            figures.after(f"import_id = {int(import_id)} AND id > {int(last or 0)}")  # type: ignore[call-overload]
    for action, audited in (
        (
            INSERT,
            fresh.select(
                row_key=key_expr(key), before=pl.lit(None, pl.String), after=pl.lit(None, pl.String)
            ),
        ),
        (
            UPDATE,
            changed.select(
                row_key=key_expr(key), before=_row_json(others, "_old"), after=_row_json(others)
            ),
        ),
    ):
        frame = event_frame(audited, target.name, action, import_id, user, at)
        _insert_sliced(session, "audit_log", frame)
    if lost is not None:
        written = pl.concat([fresh.select(key), changed.select(key)])
        noted = lost.join(written, on=list(key), how="semi", nulls_equal=True).select(
            row_key=key_expr(key), before=pl.lit(None, pl.String), after=pl.col("after")
        )
        frame = event_frame(noted, target.name, LABEL_LOST, import_id, user, at)
        _insert_sliced(session, "audit_log", frame)
    return fresh.height, changed.height, matched_rows.height - changed.height


def _dialect(session: BulkSession) -> str:
    return "sqlite" if session.mark == "?" else "postgresql"


class _DryRun(Exception):
    """Raised inside a session to roll back what a preview did."""


def _store(
    engine: Engine,
    table: RowsToStore,
    target: _Target,
    locks: list[str],
    user: str | None,
    dry_run: bool = False,
    report: ChangeReport | None = None,
    expected: list[tuple[int, int, int]] | None = None,
) -> ImportSummary:
    """Store a validated upload batch by batch, in one transaction holding `locks`; with
    `dry_run`, do it all and roll it back (the counts are exact, nothing is kept). With
    `expected` (the versions a preview saw), a stored record that moved since refuses it all."""
    table.raise_if_invalid()
    user = user or default_user()
    at = dt.datetime.now()
    totals = [0, 0, 0]  # inserted, updated, unchanged
    if expected is not None and report is None:
        report = ChangeReport()
    try:
        import_id = _store_in(
            engine, table, target, locks, user, at, totals, dry_run, report, expected
        )
    except _DryRun:
        import_id = 0
    inserted, updated, unchanged = totals
    return ImportSummary(
        import_id=import_id,
        rows=table.height,
        inserted=inserted,
        updated=updated,
        unchanged=unchanged,
        warnings=table.issues.warning_count,
    )


def _store_in(
    engine: Engine,
    table: RowsToStore,
    target: _Target,
    locks: list[str],
    user: str,
    at: dt.datetime,
    totals: list[int],
    dry_run: bool,
    report: ChangeReport | None = None,
    expected: list[tuple[int, int, int]] | None = None,
) -> int:
    with bulk_session(engine) as session:
        session.lock(locks)
        closed = locks_from_tuples(session.execute(ACTIVE_SQL)) if target.signed_off else []
        import_id = _start_import(session, table, user, at)
        source = table.source
        kept = tuple(
            c for c in target.others if source.keeps_absent_fields and c not in source.columns
        )
        keep_blanks = target.blank_rule and table.blank == "keep"
        rows = [ROW] if report is not None else []

        def stored(keys: pl.DataFrame) -> pl.DataFrame:
            return session.matching(target.name, keys, list(target.schema), target.schema)

        for batch in table.batches():
            # Follow-up-only changes to signed-off records go through (a kept blank is none).
            check_batch(closed, batch, stored, keep_blanks=keep_blanks)
            new = batch.select(*rows, *target.columns)
            lost = _lost_labels(batch, target.key) if target.lost_labels else None
            counts = _upsert_batch(
                session, target, new, import_id, user, at, kept, lost, keep_blanks, report
            )
            totals[:] = [a + b for a, b in zip(totals, counts, strict=True)]
        if report is not None:
            report.sort()
        if expected is not None and report is not None and sorted(expected) != report.seen:
            raise RecordsMoved(moved_message(sorted(expected), report.seen))
        if dry_run:
            raise _DryRun
        mark = session.mark
        session.execute(
            f"UPDATE import_log SET inserted = {mark}, updated = {mark}, unchanged = {mark} "
            f"WHERE id = {mark}",
            (*totals, import_id),
        )
    return import_id


def store_services(engine: Engine, table: RowsToStore, user: str | None = None) -> ImportSummary:
    """Insert or update services by service_code; one transaction."""
    target = _Target(
        "services", SERVICE_COLUMNS, ("service_code",), table_schema("services", SERVICE_COLUMNS)
    )
    return _store(engine, table, target, [SERVICES_LOCK], user)


def store_records(
    engine: Engine,
    table: RowsToStore,
    user: str | None = None,
    *,
    dry_run: bool = False,
    report: ChangeReport | None = None,
    expected: list[tuple[int, int, int]] | None = None,
) -> ImportSummary:
    """Insert or update records by their key; one transaction, every change audited. Imports of
    the same service queue: each compares against what the one before it committed. With
    `dry_run`, the counts of what it would do, and nothing stored; `report` collects the field
    changes; `expected` (a preview's `report.seen`) refuses the store with `RecordsMoved` if
    a stored record it matches moved since."""
    schema = {
        "id": pl.Int64(),
        "version": pl.Int64(),
        **table_schema("records", RECORD_COLUMNS),
    }
    target = _Target(
        "records",
        RECORD_COLUMNS,
        load_dictionary().record_key,
        schema,
        versioned=True,
        stamped=True,
        figures=True,
        signed_off=True,
        blank_rule=True,
        lost_labels=True,
    )
    locks = record_locks(table.service_codes())
    return _store(engine, table, target, locks, user, dry_run, report, expected)


_SERVICE_CODES = select(services.c.service_code)  # built once: every record saved asks


def known_service_codes(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(_SERVICE_CODES).scalars())
