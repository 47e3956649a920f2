"""The audit trail's encodings (storage/audit.py): a row's key is the same whether written in
SQL, polars or Python, and an FLS's rows are found by its key range alone (an FLS whose code
starts another's is not mixed in)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from sqlalchemy import Engine, select

from flsdb.dictionary import load_dictionary
from flsdb.storage.audit import (
    key_expr,
    key_sql,
    key_text,
    rows_of_service,
    rows_of_services,
    rows_outside_service,
)
from flsdb.storage.edits import delete_record_by_id
from flsdb.storage.tables import audit_log, records
from tests.factory import nhs_number, record
from tests.storage.test_store import import_rows, load_services


def test_every_writer_keys_a_row_alike_and_an_fls_finds_its_own(
    engine: Engine, tmp_path: Path
) -> None:
    load_services(engine, tmp_path)
    import_rows(
        engine,
        tmp_path,
        [
            record(service_code="FLS01", nhs_number=nhs_number(1)),
            record(service_code="FLS02", nhs_number=nhs_number(2)),
        ],
    )
    key = load_dictionary().record_key
    with engine.connect() as conn:
        stored = [dict(r._mapping) for r in conn.execute(select(records, key_sql(key)))]
        audited = {
            r.row_key
            for r in conn.execute(
                select(audit_log.c.row_key).where(audit_log.c.table_name == "records")
            )
        }
    frame = pl.DataFrame([{k: str(row[k]) for k in key} for row in stored])
    from_polars = frame.select(key_expr(key).alias("k"))["k"].to_list()
    from_python = [key_text(row, key) for row in stored]
    from_sql = [row[next(c for c in row if c not in records.c)] for row in stored]
    assert from_python == from_sql == from_polars
    assert set(from_python) == audited
    assert from_python[0] == f"FLS01|{nhs_number(1)}|{stored[0]['date_fracture_diagnosed']}"
    first = next(r for r in stored if r["service_code"] == "FLS01")
    delete_record_by_id(engine, int(first["id"]), {"FLS01"})
    with engine.connect() as conn:

        def actions(*where: object) -> list[tuple[str, str]]:
            found = conn.execute(
                select(audit_log.c.row_key, audit_log.c.action).where(*where).order_by("id")
            )
            return [(str(k), str(a)) for k, a in found]

        mine = actions(rows_of_service("FLS01"))
        assert mine == [(from_python[0], "insert"), (from_python[0], "delete")]
        assert actions(rows_of_service("FLS0")) == []  # a code starting another's
        assert actions(rows_outside_service("FLS01")) == [(from_python[1], "insert")]
        assert len(actions(rows_of_services(["FLS01", "FLS02"]))) == 3
