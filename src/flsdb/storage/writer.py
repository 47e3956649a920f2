"""Store validated uploads: insert or update by key in one transaction, audited and logged.

Audit rows: an update keeps the changed row's values before and after; a delete keeps the values
before. An insert keeps no copy of the values (its `after` is empty): they are the record as stored,
and the first later update keeps them as its `before`, so the full history can be rebuilt without
writing every new record twice (which would halve the import speed).
"""

from __future__ import annotations

import datetime as dt
import getpass
from dataclasses import dataclass

import polars as pl
from sqlalchemy import Engine, select

from flsdb.dictionary import load_dictionary
from flsdb.errors import ValidationFailed
from flsdb.ingest.parse import storage_dtype
from flsdb.ingest.validate import ValidatedTable
from flsdb.storage.bulk import BulkSession, bulk_session
from flsdb.storage.tables import RECORD_COLUMNS, SERVICE_COLUMNS, services

KEY_SEPARATOR = "|"
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


def _require_valid(table: ValidatedTable) -> None:
    if not table.ok:
        raise ValidationFailed(table.issues)


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


def key_text(key: tuple[str, ...]) -> pl.Expr:
    return pl.concat_str([pl.col(k).cast(pl.String) for k in key], separator=KEY_SEPARATOR)


def _audit_frame(
    frame: pl.DataFrame, table: str, action: str, import_id: int | None, user: str, at: dt.datetime
) -> pl.DataFrame:
    return frame.select(
        table_name=pl.lit(table),
        row_key=pl.col("row_key"),
        action=pl.lit(action),
        before=pl.col("before"),
        after=pl.col("after"),
        import_id=pl.lit(import_id, dtype=pl.Int64),
        user_name=pl.lit(user),
        changed_at=pl.lit(at),
    )


def _insert_sliced(session: BulkSession, table: str, frame: pl.DataFrame) -> None:
    for part in frame.iter_slices(SLICE_ROWS):
        session.insert(table, part)


def _start_import(session: BulkSession, table: ValidatedTable, user: str, at: dt.datetime) -> int:
    values = (
        table.kind,
        user,
        at.isoformat(sep=" "),
        table.source.name,
        table.source.sha256,
        table.frame.height,
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


def _upsert(
    session: BulkSession,
    table: ValidatedTable,
    name: str,
    columns: tuple[str, ...],
    key: tuple[str, ...],
    existing: pl.DataFrame,
    import_id: int,
    user: str,
    at: dt.datetime,
) -> ImportSummary:
    new = table.frame.select(columns)
    others = [c for c in columns if c not in key]
    old = existing.rename({c: f"{c}_old" for c in others}).with_columns(_present=pl.lit(True))
    joined = new.join(old, on=list(key), how="left", nulls_equal=True, coalesce=True)
    matched = pl.col("_present").fill_null(False)
    fresh = joined.filter(~matched).select(columns)
    matched_rows = joined.filter(matched)
    changed = matched_rows.filter(_changed(others))
    del joined
    stamps = {"updated_at": pl.lit(at)}
    if name == "records":
        stamps["import_id"] = pl.lit(import_id)
    _insert_sliced(session, name, fresh.with_columns(created_at=pl.lit(at), **stamps))
    if "id" in changed.columns:
        session.update(name, changed.select(*others, **stamps, id=pl.col("id")), "id")
    else:
        session.update(name, changed.select(*others, *key, **stamps), key[0])
    _insert_sliced(
        session,
        "audit_log",
        _audit_frame(
            fresh.select(
                row_key=key_text(key), before=pl.lit(None, pl.String), after=pl.lit(None, pl.String)
            ),
            name,
            "insert",
            import_id,
            user,
            at,
        ),
    )
    _insert_sliced(
        session,
        "audit_log",
        _audit_frame(
            changed.select(
                row_key=key_text(key), before=_row_json(others, "_old"), after=_row_json(others)
            ),
            name,
            "update",
            import_id,
            user,
            at,
        ),
    )
    summary = ImportSummary(
        import_id=import_id,
        rows=new.height,
        inserted=fresh.height,
        updated=changed.height,
        unchanged=matched_rows.height - changed.height,
        warnings=table.issues.warning_count,
    )
    mark = session.mark
    session.execute(
        f"UPDATE import_log SET inserted = {mark}, updated = {mark}, unchanged = {mark} "
        f"WHERE id = {mark}",
        (summary.inserted, summary.updated, summary.unchanged, import_id),
    )
    return summary


def store_services(engine: Engine, table: ValidatedTable, user: str | None = None) -> ImportSummary:
    """Insert or update services by service_code; one transaction."""
    _require_valid(table)
    user = user or default_user()
    at = dt.datetime.now()
    with bulk_session(engine) as session:
        import_id = _start_import(session, table, user, at)
        existing = session.read(
            "SELECT " + ", ".join(SERVICE_COLUMNS) + " FROM services",
            table_schema("services", SERVICE_COLUMNS),
        )
        return _upsert(
            session,
            table,
            "services",
            SERVICE_COLUMNS,
            ("service_code",),
            existing,
            import_id,
            user,
            at,
        )


def store_records(engine: Engine, table: ValidatedTable, user: str | None = None) -> ImportSummary:
    """Insert or update records by their key; one transaction, every change audited."""
    _require_valid(table)
    user = user or default_user()
    at = dt.datetime.now()
    key = load_dictionary().record_key
    codes = table.frame["service_code"].drop_nulls().unique().sort().to_list()
    schema = {"id": pl.Int64(), **table_schema("records", RECORD_COLUMNS)}
    with bulk_session(engine) as session:
        import_id = _start_import(session, table, user, at)
        marks = ", ".join(session.mark for _ in codes)
        existing = (
            session.read(
                f"SELECT id, {', '.join(RECORD_COLUMNS)} FROM records "
                f"WHERE service_code IN ({marks})",
                schema,
                codes,
            )
            if codes
            else pl.DataFrame(schema=schema)
        )
        return _upsert(
            session, table, "records", RECORD_COLUMNS, key, existing, import_id, user, at
        )


def delete_record(engine: Engine, key_values: dict[str, object], user: str | None = None) -> bool:
    """Delete one record by its key, keeping its values in the audit log. False if absent."""
    user = user or default_user()
    key = load_dictionary().record_key
    schema = table_schema("records", RECORD_COLUMNS)
    with bulk_session(engine) as session:
        where = " AND ".join(f"{k} = {session.mark}" for k in key)
        params = [str(key_values[k]) if k != key[-1] else key_values[k] for k in key]
        if engine.dialect.name == "sqlite":
            params = [str(p) for p in params]
        found = session.read(
            f"SELECT {', '.join(RECORD_COLUMNS)} FROM records WHERE {where}", schema, params
        )
        if found.height == 0:
            return False
        session.execute(f"DELETE FROM records WHERE {where}", params)
        session.insert(
            "audit_log",
            _audit_frame(
                found.select(
                    row_key=key_text(key),
                    before=_row_json([c for c in RECORD_COLUMNS]),
                    after=pl.lit(None, pl.String),
                ),
                "records",
                "delete",
                None,
                user,
                dt.datetime.now(),
            ),
        )
    return True


def known_service_codes(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(select(services.c.service_code)).scalars())
