"""The audit trail's encodings, in one place: how a row's key is written, which rows are an
FLS's, and the audit rows (events) every writer adds.

A record's `row_key` is its key's values joined by `KEY_SEPARATOR` (`FLS01|9434765919|2024-03-01`:
service, NHS number, diagnosis date), a service's its code. The key leads with the FLS, so an
FLS's rows are one range of the `(table_name, row_key)` index: from `FLS01|` up to (not
including) `FLS01}` (`}` is the character after `|`). Writers build keys here in SQL
(`key_sql`), in polars (`key_expr`) and in Python (`key_text`): the three agree, and a search by
key (a record's history, an upload's FLSs, the lost labels) finds what the writers wrote.

Events: `insert`, `update`, `delete` (a record's values before it changed, after it changed),
and `label_lost` (a profile's label that lost detail, under the import that wrote it); the
import's own rows keep no copy of an insert's values (see `storage/writer.py`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl
from sqlalchemy import ColumnElement, Connection, String, and_, cast, func, or_

from flsdb.storage.tables import audit_log, records

KEY_SEPARATOR = "|"
_AFTER_SEPARATOR = chr(ord(KEY_SEPARATOR) + 1)
INSERT, UPDATE, DELETE, LABEL_LOST = "insert", "update", "delete", "label_lost"


def key_text(values: Mapping[str, Any], key: Sequence[str]) -> str:
    """One row's key as the audit log keeps it (dates as ISO text)."""
    return KEY_SEPARATOR.join(
        values[k].isoformat() if isinstance(values[k], dt.date) else str(values[k]) for k in key
    )


def key_expr(key: Sequence[str]) -> pl.Expr:
    """The key of each row of a polars frame, as `key_text` writes it."""
    return pl.concat_str([pl.col(k).cast(pl.String) for k in key], separator=KEY_SEPARATOR)


def key_sql(key: Sequence[str]) -> ColumnElement[Any]:
    """The key of each stored record, in SQL, as `key_text` writes it."""
    parts: list[ColumnElement[Any]] = [
        records.c[k] if isinstance(records.c[k].type, String) else cast(records.c[k], String)
        for k in key
    ]
    out = parts[0]
    for part in parts[1:]:
        out = out + KEY_SEPARATOR + part
    return out


def service_prefix(code: str) -> str:
    """What every key of the FLS's records starts with."""
    return f"{code}{KEY_SEPARATOR}"


def rows_of_service(code: str) -> ColumnElement[bool]:
    """The audit rows of an FLS's records: one range of the keys' index."""
    return and_(
        audit_log.c.table_name == "records",
        audit_log.c.row_key >= service_prefix(code),
        audit_log.c.row_key < f"{code}{_AFTER_SEPARATOR}",
    )


def rows_of_services(codes: Sequence[str]) -> ColumnElement[bool]:
    """The audit rows of the records of any of these FLSs."""
    return or_(*[rows_of_service(code) for code in sorted(codes)])


def rows_outside_service(code: str) -> ColumnElement[bool]:
    """Audit rows of records that are not the FLS's."""
    return and_(
        audit_log.c.table_name == "records",
        (audit_log.c.row_key < service_prefix(code))
        | (audit_log.c.row_key >= f"{code}{_AFTER_SEPARATOR}"),
    )


def key_of_service(code: str) -> ColumnElement[bool]:
    """A key's FLS read from its start (for a scan by ids, where the key's index is not used)."""
    prefix = service_prefix(code)
    return func.substr(audit_log.c.row_key, 1, len(prefix)) == prefix


def _json(values: Mapping[str, Any] | None) -> str | None:
    if values is None:
        return None
    return json.dumps(
        {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in values.items()},
        sort_keys=False,
    )


def write_event(
    conn: Connection,
    action: str,
    record_id: int,
    key_values: Mapping[str, Any],
    key: Sequence[str],
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    user: str,
    at: dt.datetime,
) -> None:
    """One record's change, written in the caller's transaction (the form's and API's)."""
    conn.execute(
        _INSERT,
        {
            "table_name": "records",
            "row_key": key_text(key_values, key),
            "action": action,
            "before": _json(before),
            "after": _json(after),
            "import_id": None,
            "user_name": user,
            "changed_at": at,
            "record_id": record_id,
        },
    )


_INSERT = audit_log.insert()  # built once: its values are parameters


def event_frame(
    frame: pl.DataFrame, table: str, action: str, import_id: int | None, user: str, at: dt.datetime
) -> pl.DataFrame:
    """Audit rows for a bulk write: `frame` holds `row_key`, `before` and `after` per row."""
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
