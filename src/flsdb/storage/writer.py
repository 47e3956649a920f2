"""Store validated uploads: insert or update by key in one transaction, audited and logged."""

from __future__ import annotations

import datetime as dt
import getpass
from dataclasses import dataclass

import polars as pl
from sqlalchemy import Connection, Engine, insert, select, update

from flsdb.dictionary import load_dictionary
from flsdb.ingest.issues import ROW
from flsdb.ingest.validate import ValidatedTable
from flsdb.storage.bulk import insert_frame, read_frame, update_frame
from flsdb.storage.tables import RECORD_COLUMNS, SERVICE_COLUMNS, import_log, services

KEY_SEPARATOR = "|"


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


def _schema(columns: tuple[str, ...], kind: str) -> dict[str, type[pl.DataType]]:
    fields = load_dictionary().fields(kind)  # type: ignore[arg-type]
    by_name = {f.name: f for f in fields}
    types = {"date": pl.Date, "integer": pl.Int64, "number": pl.Float64}
    return {c: types.get(by_name[c].type, pl.String) for c in columns}


def _changed(columns: list[str]) -> pl.Expr:
    """True where any column differs from its `_old` twin (null-aware)."""
    return pl.any_horizontal([pl.col(c).ne_missing(pl.col(f"{c}_old")) for c in columns])


def _row_json(columns: tuple[str, ...] | list[str], suffix: str = "") -> pl.Expr:
    return pl.struct([pl.col(f"{c}{suffix}").alias(c) for c in columns]).struct.json_encode()


def _key_text(key: tuple[str, ...]) -> pl.Expr:
    return pl.concat_str([pl.col(k).cast(pl.String) for k in key], separator=KEY_SEPARATOR)


def _audit(
    conn: Connection, frame: pl.DataFrame, table: str, action: str, import_id: int,
    user: str, at: dt.datetime,
) -> None:
    insert_frame(
        conn, "audit_log",
        frame.select(
            table_name=pl.lit(table), row_key=pl.col("row_key"), action=pl.lit(action),
            before=pl.col("before"), after=pl.col("after"), import_id=pl.lit(import_id),
            user_name=pl.lit(user), changed_at=pl.lit(at),
        ),
    )


def _start_import(conn: Connection, table: ValidatedTable, user: str, at: dt.datetime) -> int:
    result = conn.execute(
        insert(import_log).values(
            kind=table.kind, user_name=user, imported_at=at, file_name=table.source.name,
            file_sha256=table.source.sha256, rows=table.frame.height, inserted=0, updated=0,
            unchanged=0, warnings=table.issues.warning_count,
        ).returning(import_log.c.id)
    )
    return int(result.scalar_one())


def _upsert(
    conn: Connection, table: ValidatedTable, name: str, columns: tuple[str, ...],
    key: tuple[str, ...], existing: pl.DataFrame, import_id: int, user: str, at: dt.datetime,
    id_column: str | None,
) -> ImportSummary:
    new = table.frame.drop(ROW).select(columns)
    old = existing.rename({c: f"{c}_old" for c in columns if c not in key})
    joined = new.join(
        old.with_columns(_present=pl.lit(True)), on=list(key), how="left", nulls_equal=True,
        coalesce=True,
    )
    matched = pl.col("_present").fill_null(False)
    fresh = joined.filter(~matched)
    others = [c for c in columns if c not in key]
    matched_rows = joined.filter(matched)
    changed = matched_rows.filter(_changed(others))
    stamps = {"updated_at": pl.lit(at)}
    if name == "records":
        stamps["import_id"] = pl.lit(import_id)
    insert_frame(conn, name, fresh.select(*columns, created_at=pl.lit(at), **stamps))
    if id_column:
        update_frame(conn, name, changed.select(*others, **stamps, id=pl.col(id_column)), "id")
    else:
        update_frame(conn, name, changed.select(*others, *key, **stamps), key[0])
    _audit(conn, fresh.select(row_key=_key_text(key), before=pl.lit(None, pl.String),
                              after=_row_json(columns)), name, "insert", import_id, user, at)
    _audit(
        conn,
        changed.select(row_key=_key_text(key), before=_row_json(others, "_old"),
                       after=_row_json(others)),
        name, "update", import_id, user, at,
    )
    summary = ImportSummary(
        import_id=import_id, rows=new.height, inserted=fresh.height, updated=changed.height,
        unchanged=matched_rows.height - changed.height, warnings=table.issues.warning_count,
    )
    conn.execute(
        update(import_log).where(import_log.c.id == import_id).values(
            inserted=summary.inserted, updated=summary.updated, unchanged=summary.unchanged
        )
    )
    return summary


def store_services(engine: Engine, table: ValidatedTable, user: str | None = None) -> ImportSummary:
    """Insert or update services by service_code; one transaction."""
    user = user or default_user()
    at = dt.datetime.now()
    with engine.begin() as conn:
        import_id = _start_import(conn, table, user, at)
        existing = read_frame(
            conn, "SELECT " + ", ".join(SERVICE_COLUMNS) + " FROM services",
            _schema(SERVICE_COLUMNS, "services"),
        )
        return _upsert(conn, table, "services", SERVICE_COLUMNS, ("service_code",),
                       existing, import_id, user, at, None)


def store_records(engine: Engine, table: ValidatedTable, user: str | None = None) -> ImportSummary:
    """Insert or update records by their key; one transaction, every change audited."""
    user = user or default_user()
    at = dt.datetime.now()
    key = load_dictionary().record_key
    codes = table.frame["service_code"].drop_nulls().unique().sort().to_list()
    with engine.begin() as conn:
        import_id = _start_import(conn, table, user, at)
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        existing = read_frame(
            conn,
            "SELECT id, " + ", ".join(RECORD_COLUMNS) + " FROM records WHERE service_code IN ("
            + ", ".join(mark for _ in codes) + ")",
            {"id": pl.Int64, **_schema(RECORD_COLUMNS, "records")},
            codes,
        ) if codes else pl.DataFrame(schema={"id": pl.Int64, **_schema(RECORD_COLUMNS, "records")})
        return _upsert(conn, table, "records", RECORD_COLUMNS, key, existing, import_id, user, at,
                       "id")


def known_service_codes(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(select(services.c.service_code)).scalars())
